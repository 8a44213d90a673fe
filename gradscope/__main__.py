from gradscope.cli.app import main

main()

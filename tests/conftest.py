import os

# Tests must not share or depend on the user's compilation cache.
os.environ.setdefault("GRADSCOPE_NO_CACHE", "1")

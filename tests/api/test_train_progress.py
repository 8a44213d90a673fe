"""`gradscope.train` reports progress per architecture against the --iters the user asked
for, not against iters × architectures."""

import gradscope


def test_progress_counts_the_iterations_asked_for_one_architecture_at_a_time():
    calls = []
    gradscope.train(task="adding", arch=["rnn", "gru"], clip=["none"], iters=6,
                    checkpoint_every=3, steps=4, hidden=3, batch_size=2,
                    progress=lambda done, total, what: calls.append((done, total, what)))
    assert {total for _, total, _ in calls} == {6}
    assert list(dict.fromkeys(what for _, _, what in calls)) == ["rnn (1/2)", "gru (2/2)"]
    rnn = [done for done, _, what in calls if what == "rnn (1/2)"]
    assert rnn == sorted(rnn) and rnn[-1] == 6

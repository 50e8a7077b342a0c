"""Chains at once: the first in this process, each other one in a forked child.

PyMC's parallel sampler passes every draw of every chain through the parent process. At a
few hundred points a draw costs less than that hand-over: on the 2-core machine, two
chains of the notebook's problem took longer in PyMC's parallel sampler than one chain
twice over. A forked child instead runs its chain's ``pm.sample`` to the end and sends the
result back once.
"""

import pickle


def _child(send, function, index):
    try:
        outcome = function(index)
    except BaseException as error:  # reported to the parent, which raises it
        outcome = error
    try:
        payload = pickle.dumps(outcome)
    except Exception as error:  # an exception that cannot be pickled: its text survives
        payload = pickle.dumps(RuntimeError(f"chain {index} failed: {outcome!r} ({error})"))
    send.send_bytes(payload)
    send.close()


def _receive(receive, process, index):
    try:
        return pickle.loads(receive.recv_bytes())
    except EOFError:  # the child died without a word: killed, or out of memory
        process.join()
        return RuntimeError(f"chain {index}'s process exited with code {process.exitcode}")


def run_forked(context, function, n):
    """``[function(0), ..., function(n - 1)]``: the first call here, each other one in its
    own forked process, all at once.

    ``context`` is a fork multiprocessing context: the children inherit ``function`` and
    everything it refers to (the model, the step method) without pickling; only their
    results travel, pickled. The first call runs in this process so that what it imports
    and caches (PyMC's and PyTensor's modules, the compiled-module cache) stays here for
    the children of later calls to inherit, where each child would otherwise redo it at
    every fit. The first exception raised is raised here, and an interrupt here stops
    every child.
    """
    processes, pipes = [], []
    try:
        for index in range(1, n):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=_child, args=(send, function, index), daemon=True)
            process.start()
            send.close()
            processes.append(process)
            pipes.append(receive)
        first = function(0)
        outcomes = [
            _receive(receive, process, index)
            for index, (receive, process) in enumerate(zip(pipes, processes, strict=True), 1)
        ]
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
        for receive in pipes:
            receive.close()
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return [first, *outcomes]

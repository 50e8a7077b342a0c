"""Run one function per chain in forked child processes, and collect what each returns.

PyMC's parallel sampler passes every draw of every chain through the parent process. At a
few hundred points a draw costs less than that hand-over, and two parallel chains took
longer than one chain alone twice (benchmarks/bench_notebook_fit.py). A forked child
instead runs its chain's ``pm.sample`` to the end and sends the result back once.
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
    """``[function(0), ..., function(n - 1)]``, each call in its own forked process.

    ``context`` is a fork multiprocessing context: the children inherit ``function`` and
    everything it refers to (the model, the step method) without pickling; only the
    results travel, pickled. The first exception raised in a child is raised here, and an
    interrupt here stops every child.
    """
    processes, pipes = [], []
    try:
        for index in range(n):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=_child, args=(send, function, index), daemon=True)
            process.start()
            send.close()
            processes.append(process)
            pipes.append(receive)
        outcomes = [
            _receive(receive, process, index)
            for index, (receive, process) in enumerate(zip(pipes, processes, strict=True))
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
    return outcomes

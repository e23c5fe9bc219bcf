"""How fast nnkit trains an MLP, against PyTorch and against numpy's bare matrix products.

One epoch = 60,000 synthetic rows of 784 float32 features, minibatches of 128,
a 784-256-10 ReLU MLP, softmax cross-entropy, plain SGD. nnkit and torch each
run in their own subprocess with the same thread count (numpy's OpenBLAS and
torch's OpenMP threads would fight in one process). Both workers stay alive
and take turns, one epoch at a time, so a change in the machine's load hits
both alike; after a warm-up epoch each, five timed epochs each, and the
medians are compared.

The matrix products of one training step are X_b @ W1, H @ W2 (forward),
H^T @ dZ2, dZ2 @ W2^T, X_b^T @ dZ1 (backward; the input gradient dX is not
needed). Timing exactly those products, alone, on the same sizes gives the
GFLOP/s ceiling a numpy implementation can reach; the nnkit worker runs one
such bare epoch after each nnkit epoch and the script prints the fraction of
the ceiling nnkit achieves. Then a nnkit MLP is trained on scikit-learn's 8x8
digits, and its test accuracy and training time are printed.

The subprocesses run without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE: when set
(some machines set them globally), they can pin OpenBLAS to a slower generic
kernel (OPENBLAS_CORETYPE=Prescott makes these products about 3x slower). The
kernel OpenBLAS actually picked, as threadpoolctl reports it, is printed.

    python benchmarks/bench_mlp.py [--threads 2] [--epochs 5]

The last line is ``nnkit/torch epoch time ratio: R`` (below 1: nnkit is
faster). Timings on a machine shared with other work are noisy, and with more
busy processes than cores, multi-threaded BLAS slows down many times over.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROWS, D, H, C, BATCH = 60_000, 784, 256, 10, 128
LR = 0.01
SCRUBBED_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
DIGITS_SEEDS = (0, 1, 2)


def synthetic_data():
    """The same float32 rows and labels in both workers."""
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((ROWS, D), dtype=np.float32)
    y = rng.integers(0, C, size=ROWS)
    return X, y


def epoch_flops() -> float:
    """Floating-point operations of the five matrix products of one epoch (2 per multiply-add)."""
    total = 0
    for start in range(0, ROWS, BATCH):
        n = min(BATCH, ROWS - start)
        total += 2 * n * (2 * D * H + 3 * H * C)
    return float(total)


# ------------------------------------------------------------------- workers
#
# A worker sets up, runs one untimed epoch, prints one JSON line describing
# itself, then runs one timed epoch per "epoch" line read from stdin and
# prints its timings as a JSON line; it exits at end of input.


def serve(run_epoch, info: dict) -> None:
    run_epoch()
    print(json.dumps(info), flush=True)
    for _ in sys.stdin:
        print(json.dumps(run_epoch()), flush=True)


def worker_nnkit() -> None:
    import numpy as np
    from threadpoolctl import threadpool_info

    import nnkit as nk

    X, y = synthetic_data()
    model = nk.MLP([D, H, C], activation="relu", rng=0, dtype=np.float32)
    opt = nk.SGD(lr=LR)
    rng = np.random.default_rng(1)
    W1, W2 = model.layers[0].W, model.layers[2].W
    buffers = {
        "H": np.empty((BATCH, H), np.float32),
        "Z": np.empty((BATCH, C), np.float32),
        "dH": np.empty((BATCH, H), np.float32),
        "dW1": np.empty((D, H), np.float32),
        "dW2": np.empty((H, C), np.float32),
    }

    def bare_epoch() -> float:
        start = time.perf_counter()
        for s in range(0, ROWS, BATCH):
            Xb = X[s : s + BATCH]
            n = len(Xb)
            Hb, Zb, dHb = buffers["H"][:n], buffers["Z"][:n], buffers["dH"][:n]
            np.matmul(Xb, W1, out=Hb)
            np.matmul(Hb, W2, out=Zb)
            np.matmul(Hb.T, Zb, out=buffers["dW2"])
            np.matmul(Zb, W2.T, out=dHb)
            np.matmul(Xb.T, dHb, out=buffers["dW1"])
        return time.perf_counter() - start

    def run_epoch() -> dict:
        start = time.perf_counter()
        nk.fit(model, X, y, optimizer=opt, epochs=1, batch_size=BATCH, rng=rng, progress=False)
        seconds = time.perf_counter() - start
        return {"seconds": seconds, "bare": bare_epoch()}

    keys = ("prefix", "internal_api", "architecture", "num_threads", "version")
    blas = [{k: info.get(k) for k in keys} for info in threadpool_info()]
    serve(run_epoch, {"blas": blas})


def worker_torch(threads: int) -> None:
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    X_np, y_np = synthetic_data()
    X, y = torch.from_numpy(X_np), torch.from_numpy(y_np)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(D, H), nn.ReLU(), nn.Linear(H, C))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    generator = torch.Generator().manual_seed(1)

    def run_epoch() -> dict:
        start = time.perf_counter()
        order = torch.randperm(ROWS, generator=generator)
        loss_sum, correct = 0.0, 0
        for s in range(0, ROWS, BATCH):
            idx = order[s : s + BATCH]
            Xb, yb = X.index_select(0, idx), y.index_select(0, idx)
            opt.zero_grad(set_to_none=True)
            out = model(Xb)
            loss = nn.functional.cross_entropy(out, yb)
            loss.backward()
            opt.step()
            # the same bookkeeping as nnkit's fit: running loss and accuracy
            loss_sum += loss.item() * len(idx)
            correct += int((out.argmax(dim=1) == yb).sum())
        return {"seconds": time.perf_counter() - start}

    serve(run_epoch, {"threads": torch.get_num_threads(), "version": torch.__version__})


def worker_digits() -> None:
    import numpy as np

    import nnkit as nk

    X_tr, X_te, y_tr, y_te = nk.load_digits(test_size=0.25, rng=0, dtype=np.float32)
    scaler = nk.Standardizer().fit(X_tr)
    X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    accuracies, seconds = [], []
    # several initialisations, so one lucky seed cannot carry the figure
    for seed in DIGITS_SEEDS:
        model = nk.MLP([64, 256, 10], rng=seed, dtype=np.float32)
        start = time.perf_counter()
        nk.fit(
            model,
            X_tr,
            y_tr,
            optimizer=nk.Adam(lr=1e-3),
            epochs=40,
            batch_size=32,
            rng=seed + 1,
            progress=False,
        )
        seconds.append(time.perf_counter() - start)
        accuracies.append(nk.accuracy(model, X_te, y_te))
    print(json.dumps({"accuracies": accuracies, "seconds": seconds, "n_test": len(y_te)}))


# ------------------------------------------------------------------- driver


def worker_env(threads: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    return env


def start_worker(name: str, threads: int) -> subprocess.Popen:
    command = [sys.executable, __file__, "--worker", name, "--threads", str(threads)]
    return subprocess.Popen(
        command, env=worker_env(threads), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def read_json(worker: subprocess.Popen, name: str) -> dict:
    line = worker.stdout.readline()
    if not line:
        raise SystemExit(f"worker {name} stopped (exit code {worker.wait()}); see its stderr above")
    return json.loads(line)


def _usable_cores() -> int:
    """Cores this process may run on (the affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=_usable_cores())
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--worker", choices=["nnkit", "torch", "digits"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        {
            "nnkit": worker_nnkit,
            "torch": lambda: worker_torch(args.threads),
            "digits": worker_digits,
        }[args.worker]()
        return

    scrubbed = {k: os.environ[k] for k in SCRUBBED_ENV if k in os.environ}
    print(f"MLP {D}-{H}-{C} ReLU, float32, {ROWS} rows, batch {BATCH}, SGD; {args.threads} threads")
    print(f"unset in the workers: {scrubbed or 'nothing (neither variable is set)'}")

    workers = {name: start_worker(name, args.threads) for name in ("nnkit", "torch")}
    info = {name: read_json(w, name) for name, w in workers.items()}
    times = {"nnkit": [], "torch": [], "bare": []}
    for _ in range(args.epochs):
        for name, worker in workers.items():
            worker.stdin.write("epoch\n")
            worker.stdin.flush()
            result = read_json(worker, name)
            times[name].append(result["seconds"])
            if "bare" in result:
                times["bare"].append(result["bare"])
    for worker in workers.values():
        worker.stdin.close()
        worker.wait()

    for lib in info["nnkit"]["blas"]:
        print(
            f"BLAS {lib['prefix']} ({lib['internal_api']} {lib['version']}): "
            f"kernel {lib['architecture']}, {lib['num_threads']} threads"
        )
    print(f"torch {info['torch']['version']}: {info['torch']['threads']} threads")
    t_nnkit, t_torch, t_bare = (statistics.median(times[k]) for k in ("nnkit", "torch", "bare"))
    flops = epoch_flops()
    for name in ("nnkit", "torch", "bare"):
        print(f"{name} epoch times (s): {', '.join(f'{t:.3f}' for t in times[name])}")
    print(f"median epoch time: nnkit {t_nnkit:.3f} s, torch {t_torch:.3f} s")
    print(
        f"GFLOP/s: nnkit {flops / t_nnkit / 1e9:.1f}, bare numpy matmul {flops / t_bare / 1e9:.1f} "
        f"(the same products alone, {t_bare:.3f} s per epoch); nnkit reaches "
        f"{t_bare / t_nnkit:.2f} of it"
    )

    digits = subprocess.run(
        [sys.executable, __file__, "--worker", "digits", "--threads", str(args.threads)],
        env=worker_env(args.threads),
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(digits.stdout.strip().splitlines()[-1])
    accs = ", ".join(f"{a:.4f}" for a in result["accuracies"])
    print(
        f"digits (sklearn 8x8, standardised, MLP 64-256-10, Adam 1e-3, 40 epochs, batch 32): "
        f"test accuracy {min(result['accuracies']):.4f}, worst of seeds {DIGITS_SEEDS} ({accs}), "
        f"on {result['n_test']} images; {statistics.median(result['seconds']):.2f} s per training"
    )
    print(f"nnkit/torch epoch time ratio: {t_nnkit / t_torch:.3f}")


if __name__ == "__main__":
    main()

"""The `ember` command line."""
import argparse
import sys
import time


def _xor_parser(sub):
    from .xor import ACTIVATIONS, OPTIMIZERS, XorConfig
    d = XorConfig()
    p = sub.add_parser(
        "xor", help="train the classic XOR network and show its predictions",
        description="Train a 2-H-1 network on XOR by forward and backward propagation. The "
                    "defaults solve XOR for every seed 0..99; --textbook reproduces the course's "
                    "2-2-1 settings (N(0,1) init, plain SGD lr 0.1, summed BCE, 10,000 epochs), "
                    "which get stuck for some seeds.")
    p.add_argument("--hidden", type=int, default=d.hidden, help=f"hidden units (default {d.hidden})")
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default=d.activation)
    p.add_argument("--loss", choices=["bce", "mse"], default=d.loss)
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default=d.optimizer)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--textbook", action="store_true",
                   help="the course's settings (options given explicitly still apply)")
    p.set_defaults(run=_run_xor)
    return p


def _run_xor(args, parser):
    from .xor import TEXTBOOK, X, XorConfig, solved, train_xor
    cfg = XorConfig()
    if args.textbook:
        for k, v in TEXTBOOK.items():
            setattr(cfg, k, v)
    for k in ("hidden", "activation", "loss", "optimizer", "lr", "epochs", "seed"):
        v = getattr(args, k)
        if v != parser.get_default(k) or not args.textbook:
            setattr(cfg, k, v)
    if cfg.hidden < 1 or cfg.epochs < 0 or cfg.lr <= 0:
        raise SystemExit("ember xor: --hidden must be >= 1, --epochs >= 0 and --lr > 0")
    start = time.perf_counter()
    _, pred, loss = train_xor(cfg)
    took = time.perf_counter() - start
    print(f"XOR: 2-{cfg.hidden}-1 {cfg.activation} network, {cfg.loss} loss, {cfg.optimizer} "
          f"lr {cfg.lr}, {cfg.epochs} epochs, seed {cfg.seed}"
          + (" (textbook settings)" if args.textbook else ""))
    for x, p in zip(X, pred):
        print(f"  {int(x[0])} xor {int(x[1])} -> {p:.4f}   (target {int(x[0]) ^ int(x[1])})")
    ok = solved(pred)
    print(f"final loss {loss:.6f}; XOR {'solved' if ok else 'NOT solved'} "
          f"({took:.2f} s training)")
    return 0 if ok else 1


def build_parser():
    parser = argparse.ArgumentParser(
        prog="ember", description="ember: deep learning on NumPy that shows forward and backward "
                                  "propagation, with PyTorch's API.")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"ember {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _xor_parser(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    sub = parser._subparsers._group_actions[0].choices[args.command]
    return args.run(args, sub)


if __name__ == "__main__":
    sys.exit(main())

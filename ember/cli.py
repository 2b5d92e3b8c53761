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
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default=d.activation,
                   help=f"hidden activation (default {d.activation})")
    p.add_argument("--loss", choices=["bce", "mse"], default=d.loss,
                   help=f"loss on the output (default {d.loss})")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default=d.optimizer,
                   help=f"default {d.optimizer} (plain gradient descent)")
    p.add_argument("--lr", type=float, default=d.lr, help=f"learning rate (default {d.lr})")
    p.add_argument("--epochs", type=int, default=d.epochs, help=f"default {d.epochs}")
    p.add_argument("--seed", type=int, default=d.seed, help=f"default {d.seed}")
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


def _train_parser(sub):
    from .run import DATASETS, OPTIMIZERS, SCHEDULES
    p = sub.add_parser(
        "train", help="train a model on a dataset, with checkpoints and a history",
        description="Train a model and write into --out: last.safetensors and best.safetensors "
                    "(training checkpoints), history.csv, history.png and config.json. Options "
                    "not given take the dataset's defaults (see README). Ctrl-C saves a "
                    "checkpoint that --resume continues from.")
    p.add_argument("--dataset", choices=DATASETS, default="fashion-mnist")
    p.add_argument("--model", choices=["mlp", "lenet", "cnn", "vgg", "resnet"])
    p.add_argument("--hidden", help="hidden layer sizes, e.g. 256,128")
    p.add_argument("--activation", choices=["relu", "tanh", "sigmoid", "gelu", "leaky_relu",
                                            "elu", "silu"])
    p.add_argument("--dropout", type=float)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int, dest="batch_size")
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--lr", type=float)
    p.add_argument("--weight-decay", type=float, dest="weight_decay")
    p.add_argument("--schedule", choices=SCHEDULES)
    p.add_argument("--label-smoothing", type=float, dest="label_smoothing")
    p.add_argument("--augment", action="store_true", default=None,
                   help="images: random crops and flips while training")
    p.add_argument("--samples", type=int, help="synthetic sets: training examples")
    p.add_argument("--noise", type=float, help="synthetic sets: noise level")
    p.add_argument("--seed", type=int)
    p.add_argument("--data-dir", dest="data_dir", help="folder with the (Fashion-)MNIST files")
    p.add_argument("--out", required=True, help="run folder, e.g. runs/fmnist")
    p.add_argument("--resume", action="store_true", help="continue from --out/last.safetensors")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    p.set_defaults(run=_run_train)


def _run_train(args, parser):
    from .run import RunConfig, train_command
    names = ("model", "hidden", "activation", "dropout", "epochs", "batch_size", "optimizer",
             "lr", "weight_decay", "schedule", "label_smoothing", "augment", "samples", "noise",
             "seed",
             "data_dir")
    given = {k: getattr(args, k) for k in names}
    try:
        cfg = RunConfig.for_dataset(args.dataset, **given)
        if args.resume:  # the run's own settings, unless given again (more --epochs, say)
            import json
            import os
            path = os.path.join(args.out, "config.json")
            if os.path.exists(path):
                with open(path) as f:
                    saved = json.load(f)
                saved.update({k: v for k, v in given.items() if v is not None})
                cfg = RunConfig(**saved)
        train_command(cfg, args.out, resume=args.resume, verbose=not args.quiet)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"ember train: {e}")
    return 0


def _evaluate_parser(sub):
    p = sub.add_parser("evaluate", help="test accuracy and confusion matrix of a checkpoint")
    p.add_argument("--checkpoint", required=True, help="e.g. runs/fmnist/best.safetensors")
    p.add_argument("--data-dir", dest="data_dir")
    p.add_argument("--misclassified", metavar="PNG",
                   help="images: where to draw misclassified test examples "
                        "(default: misclassified.png beside the checkpoint)")
    p.set_defaults(run=_run_evaluate)


def _run_evaluate(args, parser):
    from .run import evaluate_command
    try:
        evaluate_command(args.checkpoint, args.data_dir, misclassified=args.misclassified)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"ember evaluate: {e}")
    return 0


# the course projects: command -> module of ember.projects with add_parser(subparsers)
PROJECTS = ("textgen", "forecast", "seqclass", "textclass", "anomaly", "gan", "transfer",
            "study")
BUILTIN = {"xor": _xor_parser, "train": _train_parser, "evaluate": _evaluate_parser}


def build_parser(command=None):
    """The whole parser, or (command given) one with only that command's subparser, so that
    `ember xor` does not import the modules of every other command."""
    import importlib
    parser = argparse.ArgumentParser(
        prog="ember", description="ember: deep learning on NumPy that shows forward and backward "
                                  "propagation, with PyTorch's API.")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"ember {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in (*BUILTIN, *PROJECTS):
        if command is None or name == command:
            if name in BUILTIN:
                BUILTIN[name](sub)
            else:
                importlib.import_module(f".projects.{name}", __package__).add_parser(sub)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    first = argv[0] if argv else None
    parser = build_parser(first if first in BUILTIN or first in PROJECTS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    sub = parser._subparsers._group_actions[0].choices[args.command]
    return args.run(args, sub)


if __name__ == "__main__":
    sys.exit(main())

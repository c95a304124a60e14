"""The ``kerastorch`` command line (also ``python -m kerastorch``).

``kerastorch convert MODEL OUT``
    Load a Keras model file (a ``.keras`` archive from Keras 3 or tf.keras, a tf.keras full-model
    ``.h5``, a tf.keras SavedModel directory, or a kerastorch model ``.safetensors``) and write it as ``OUT``: a kerastorch
    ``.safetensors`` (the ``state_dict`` with the Keras config in its metadata) or a ``.keras``
    archive Keras 3 loads. ``OUT`` is written atomically; ``--no-overwrite`` keeps an existing file.

``kerastorch eject MODEL OUT_DIR``
    Load a model file and write it as standalone PyTorch: ``OUT_DIR/model.py`` (one ``torch.nn.Module``
    class that needs torch only) and ``OUT_DIR/model.safetensors`` (its ``state_dict``), see
    :mod:`kerastorch.eject`. A layer without an ejected form is an error naming it; nothing is written then.

``kerastorch summary MODEL``
    Load a model file and print tf.keras's ``model.summary()`` table.

The model file is untrusted input (see :mod:`kerastorch.saving.untrusted`): nothing in it is executed.
A file that cannot be loaded or written is one line on stderr and exit status 2 (as for usage errors),
never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn, Sequence

from ._version import __version__
from .eject import eject_file
from .saving.model_files import load_model, save_model

_SAVE_EXTENSIONS = (".safetensors", ".keras")


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line on stderr (exit status 2), like every other error here."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:

    parser = _Parser(prog="kerastorch", description="Keras model files as torch modules.")
    parser.add_argument("--version", action="version", version=f"kerastorch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    convert = commands.add_parser(
        "convert", help="convert a .keras / .h5 model file to .safetensors (or .keras)",
        description="Load a Keras model file (.keras, tf.keras .h5 or SavedModel directory, kerastorch .safetensors) "
                    "and write it as "
                    "OUT: .safetensors (weights + Keras config) or .keras (loads in Keras 3).",
    )
    convert.add_argument("model", metavar="MODEL",
                         help="the model to read (.keras, .h5, .safetensors, or a tf.keras SavedModel directory)")
    convert.add_argument("out", metavar="OUT", help="the file to write (.safetensors or .keras)")
    convert.add_argument("--no-overwrite", action="store_true", help="refuse to replace an existing OUT")
    eject = commands.add_parser(
        "eject", help="write a model file as standalone PyTorch source (model.py) + model.safetensors",
        description="Load a Keras model file and write OUT_DIR/model.py (one torch.nn.Module, torch only) and "
                    "OUT_DIR/model.safetensors (its state_dict, torch layout).",
    )
    eject.add_argument("model", metavar="MODEL", help="the model to read (.keras, .h5, .safetensors)")
    eject.add_argument("out_dir", metavar="OUT_DIR", help="the directory to write model.py and model.safetensors to")
    summary = commands.add_parser("summary", help="print a model file's summary table",
                                  description="Load a model file and print tf.keras's model.summary() table.")
    summary.add_argument("model", metavar="MODEL", help="the model file to read (.keras, .h5 or .safetensors)")
    summary.add_argument("--expand-nested", action="store_true", help="show the layers of nested models")
    summary.add_argument("--line-length", type=_positive_int, default=None, metavar="N",
                         help="total width of the table (each column needs room for one character)")
    return parser


def _convert(args: argparse.Namespace) -> None:

    if not args.out.endswith(_SAVE_EXTENSIONS):
        raise ValueError(f"OUT must end with .safetensors or .keras; received {args.out!r}")
    model = load_model(args.model)
    save_model(model, args.out, overwrite=not args.no_overwrite)
    count = sum(p.numel() for p in model.parameters()) + sum(b.numel() for b in model.buffers())
    print(f"Wrote {args.out} ({type(model).__name__} {getattr(model, 'name', '')!r}, {count} weight values)")


def _eject(args: argparse.Namespace) -> None:

    ejected = eject_file(args.model, args.out_dir)
    print(f"Wrote {args.out_dir}/model.py (class {ejected.class_name}) and {args.out_dir}/model.safetensors "
          f"({len(ejected.state_dict)} tensors)")


def _summary(args: argparse.Namespace) -> None:

    model = load_model(args.model)
    summary = getattr(model, "summary", None)
    if not callable(summary):  # pragma: no cover - load_model returns Keras models
        raise ValueError(f"{args.model!r} holds a {type(model).__name__}, which has no summary")
    summary(line_length=args.line_length, expand_nested=args.expand_nested)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        {"convert": _convert, "eject": _eject, "summary": _summary}[args.command](args)
    except (ValueError, OSError, ImportError) as e:
        message = " ".join(str(e).split())  # one line, whatever the message holds
        print(f"kerastorch {args.command}: error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

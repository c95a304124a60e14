"""Ejected model (``kerastorch eject``) vs the loaded kerastorch model vs the hand-written torch.nn twin.

For ResNet50, MobileNetV2 (alpha 0.35) and EfficientNetB0 (the keras.applications configs of
``compat_fixtures/applications``, tf.keras, rebuilt at ``--size`` with a softmax head, as
``reference_nets.py``'s twins have): the kerastorch model (``model_from_config``), its ejected ``model.py``
imported from a temporary directory, and the twin built from the same weights. Outputs are checked equal first;
then median CPU and wall ms per inference step (``no_grad``) and per SGD training step, repetitions interleaved
(``bench_models.time_steps``).

    .venv/bin/python benchmarks/bench_eject.py [--size 128] [--batch 4] [--reps 5]
"""
from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import reference_nets as R  # noqa: E402
from model_fill import fill_model  # noqa: E402
from bench_models import infer_step, reference, time_steps, train_step  # noqa: E402

from kerastorch.eject import eject  # noqa: E402
from kerastorch.models import model_from_config  # noqa: E402

APPS = Path(__file__).resolve().parent.parent / "compat_fixtures" / "applications"
NETS = {"ResNet50": "resnet50", "MobileNetV2": "mobilenetv2", "EfficientNetB0": "efficientnetb0"}


def keras_model(name: str, size: int) -> torch.nn.Module:
    """The fixture's tf.keras config at ``size`` x ``size`` with a softmax classifier, and its seeded weights."""
    with gzip.open(APPS / f"{NETS[name]}.tf.config.json.gz", "rt") as f:
        config = json.load(f)
    for layer in config["config"]["layers"]:
        c = layer["config"]
        if layer["class_name"] == "InputLayer":
            c["batch_input_shape"] = [None, size, size, 3]
        if c.get("name") == "predictions":
            c["activation"] = "softmax"
    model = model_from_config(config)
    entry = next(e for e in json.loads((APPS / "MANIFEST.json").read_text())["fixtures"]
                 if e["name"] == f"{NETS[name]}.tf_keras")
    fill_model(model, entry["weights"], entry["fill_seed"], entry["source"])
    return model


def twin(name: str, model: torch.nn.Module) -> torch.nn.Module:
    if name != "MobileNetV2":
        return reference(name, model)
    return R.to_channels_last(R.MobileNetV2(lambda n: model.get_layer(n).get_weights(), alpha=0.35))  # the fixture's alpha


def ejected(model: torch.nn.Module, directory: str) -> torch.nn.Module:
    eject(model, directory)
    spec = importlib.util.spec_from_file_location(f"ejected_{model.name}", f"{directory}/model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--models", nargs="*", default=list(NETS))
    args = parser.parse_args()
    torch.manual_seed(0)
    rows = []
    for name in args.models:
        loaded = keras_model(name, args.size).eval()
        with tempfile.TemporaryDirectory() as d:
            ej = ejected(loaded, d).eval()
        ref = twin(name, loaded).eval()
        x = torch.rand(args.batch, args.size, args.size, 3) * (255 if name == "EfficientNetB0" else 1)
        with torch.no_grad():
            a, b, c = loaded(x), ej(x), ref(x)
        diff = {"ejected": float((b - a).abs().max()), "torch.nn": float((c - a).abs().max())}
        print(name, "max |diff| vs loaded:", diff, flush=True)
        labels = torch.randint(0, a.shape[-1], (args.batch,))
        for mode in ("inference", "training"):
            steps = {}
            for label, net in (("loaded", loaded), ("ejected", ej), ("torch.nn", ref)):
                net.train(mode == "training")
                steps[label] = infer_step(net, x) if mode == "inference" else train_step(net, list(net.parameters()), x, labels)
            wall, cpu = time_steps(steps, args.reps)
            rows.append((name, mode, cpu, wall))
            print(json.dumps({"model": name, "mode": mode, "cpu_ms": cpu, "wall_ms": wall}), flush=True)
    print(f"\n| model | mode | loaded ms | ejected ms | torch.nn ms | ejected/loaded | ejected/torch.nn |"
          f"\n|---|---|---|---|---|---|---|")
    for name, mode, cpu, _ in rows:
        print(f"| {name} | {mode} | {cpu['loaded']:.1f} | {cpu['ejected']:.1f} | {cpu['torch.nn']:.1f} | "
              f"{cpu['ejected'] / cpu['loaded']:.2f} | {cpu['ejected'] / cpu['torch.nn']:.2f} |")


if __name__ == "__main__":
    main()

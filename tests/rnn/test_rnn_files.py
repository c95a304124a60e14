"""Whole recurrent models saved by real tf.keras 2.21 (.h5) and Keras 3.15.1 (.keras) load with Keras's outputs
(compat_fixtures/rnn/models/, gen/rnn.py): a stacked GRU forecaster, a seq2seq encoder-decoder whose decoder
takes the encoder's states as ``initial_state``, and a mixed model (SimpleRNN, RNN over stacked LSTM/GRU cells,
Bidirectional GRU ``ave``, LSTM ``go_backwards``), a video model (TimeDistributed(Conv2D) -> LSTM) and two
stacked ConvLSTM2D. Their weights written back by ``save_keras_weights`` carry
tf.keras's weight names (``bidirectional/forward_gru/gru_cell/kernel:0``) and Keras 3's variable paths
(``layers/bidirectional/forward_layer/cell/vars/0``), exactly those of Keras's own files, and load back."""
from __future__ import annotations

import h5py
import pytest
import torch

import kerastorch as kt
import kerastorch.layers as L
from kt_testing import FIXTURES, assert_close, load_json, load_tensors
from rnn_fixtures import flat

MODELS = {m["name"]: m for m in load_json("rnn/models.json")}
T = load_tensors("rnn/models.safetensors")
UNMASKED = ["gru_forecaster", "seq2seq", "mixed", "video", "conv_lstm"]


def _inputs(name):
    xs = [T[f"{name}.input.{i}"] for i in range(MODELS[name]["n_inputs"])]
    return xs if len(xs) > 1 else xs[0]


def _load(name, tag):
    model = kt.models.load_model(FIXTURES / "rnn" / MODELS[name]["files"][tag])
    model.eval()
    return model


@pytest.mark.parametrize("tag", ["tf", "k3"])
@pytest.mark.parametrize("name", UNMASKED)
def test_model_file_gives_keras_outputs(name, tag):
    outs = flat(_load(name, tag)(_inputs(name)))
    for j, y in enumerate(outs):
        assert_close(y, T[f"{name}.{tag}.out.{j}"], msg=f"{name} {tag} output {j}")


def _h5_weight_names(path):
    with h5py.File(path, "r") as f:
        root = f["model_weights"] if "model_weights" in f else f
        return {n.decode() if isinstance(n, bytes) else n: [w.decode() if isinstance(w, bytes) else w
                                                           for w in root[n].attrs["weight_names"]]
                for n in root.attrs["layer_names"]}


def _keras3_datasets(path_or_file):
    out = {}
    with h5py.File(path_or_file, "r") as f:
        f.visititems(lambda k, v: out.__setitem__(k, v[()]) if isinstance(v, h5py.Dataset) else None)
    return out


def test_saved_weights_use_keras_names_and_paths(tmp_path):
    import io
    import zipfile

    model = _load("mixed", "tf")
    kt.save_keras_weights(model, tmp_path / "w.h5")
    ours = {k: v for k, v in _h5_weight_names(tmp_path / "w.h5").items() if v}
    keras = {k: v for k, v in _h5_weight_names(FIXTURES / "rnn" / MODELS["mixed"]["files"]["tf"]).items() if v}
    assert ours == keras
    kt.save_keras_weights(model, tmp_path / "w.weights.h5")
    with zipfile.ZipFile(FIXTURES / "rnn" / MODELS["mixed"]["files"]["k3"]) as z:
        keras3 = _keras3_datasets(io.BytesIO(z.read("model.weights.h5")))
    mine = _keras3_datasets(tmp_path / "w.weights.h5")
    assert set(mine) == set(keras3)
    for k in keras3:
        assert (mine[k] == keras3[k]).all(), k


@pytest.mark.parametrize("name,suffix", [("mixed", ".h5"), ("seq2seq", ".weights.h5"), ("gru_forecaster", ".weights.h5")])
def test_saved_weights_load_back(tmp_path, name, suffix):
    model = _load(name, "k3")
    path = tmp_path / f"w{suffix}"
    kt.save_keras_weights(model, path)
    fresh = _load(name, "tf")
    with torch.no_grad():
        for p in fresh.parameters():
            p.zero_()
    kt.load_keras_weights(fresh, path)
    fresh.eval()
    for j, y in enumerate(flat(fresh(_inputs(name)))):
        assert_close(y, T[f"{name}.k3.out.{j}"])


def test_bare_keras3_weights_refuse_stacked_cells_of_several_classes(tmp_path):
    """Keras 3 keeps stacked cells at cells/<class>[_n]: without the model config the order of an LSTM and a
    GRU cell is unknown, and kerastorch says so instead of guessing."""
    model = _load("mixed", "k3")
    kt.save_keras_weights(model, tmp_path / "w.weights.h5")
    with pytest.raises(ValueError, match=r"stacked RNN cells of several classes \['gru_cell', 'lstm_cell'\]"):
        kt.load_keras_weights(_load("mixed", "tf"), tmp_path / "w.weights.h5")


def test_weights_only_bidirectional_file_pairs_with_a_torch_module(tmp_path):
    """A weights-only tf.keras file (no config) of a Bidirectional layer: its sublayer scopes
    (``forward_lstm/lstm_cell``) are one Keras layer, not a nested model."""
    torch.manual_seed(0)
    module = torch.nn.Sequential(kt.layers.Bidirectional(kt.layers.LSTM(3, return_sequences=True)),
                                 kt.layers.RNN([kt.layers.LSTMCell(2), kt.layers.GRUCell(2)]))
    x = torch.randn(2, 4, 5)
    want = module(x)
    kt.save_keras_weights(module, tmp_path / "w.h5")
    names = _h5_weight_names(tmp_path / "w.h5")
    assert names["bidirectional"][0] == "bidirectional/forward_lstm/lstm_cell/kernel:0"
    assert names["rnn"][3] == "rnn/stacked_rnn_cells/gru_cell/kernel:0"
    twin = torch.nn.Sequential(kt.layers.Bidirectional(kt.layers.LSTM(3, return_sequences=True)),
                               kt.layers.RNN([kt.layers.LSTMCell(2), kt.layers.GRUCell(2)]))
    kt.load_keras_weights(twin, tmp_path / "w.h5")  # unbuilt: built from the file's shapes
    assert_close(twin(x), want)


def test_legacy_cudnn_layers_load_with_tf_keras_outputs():
    """tf.keras 1.x / Keras 2 CuDNNLSTM / CuDNNGRU (cuDNN weight layout, two bias vectors): the model computes
    what tf.keras computes after loading the same file into LSTM / GRU(reset_after=True) layers, and its
    converted weights are the ones tf.keras converts to (hdf5_format._convert_rnn_weights)."""
    ref = load_tensors("rnn/cudnn.safetensors")
    model = kt.models.load_model(FIXTURES / "rnn" / "models" / "cudnn.tf.h5")
    model.eval()
    assert [type(layer).__name__ for layer in model.layers] == ["CuDNNLSTM", "CuDNNGRU", "Dense"]
    assert_close(model(ref["input.0"]), ref["tf.out.0"])
    plain = [ref[f"plain_weight.{i}"] for i in range(6)]
    for layer, want in zip(model.layers[:2], (plain[:3], plain[3:])):
        kernel, recurrent, bias = layer._step_weights()
        assert torch.equal(kernel.T, want[0]) and torch.equal(recurrent.T, want[1])
        assert_close(bias, want[2])
        pair = 2 if type(layer).__name__ == "CuDNNLSTM" else 1  # (8U,) = two (4U,); GRU's (6U,) = its (2, 3U)
        assert [tuple(w.shape) for w in layer.get_weights()][2] == (pair * want[2].numel(),)
        again = type(layer).from_config(layer.get_config())
        assert again.get_config() == layer.get_config()
        assert "activation" not in layer.get_config()


@pytest.mark.parametrize("tag", ["tf", "k3"])
@pytest.mark.parametrize("name", ["text_classifier", "stacked_lstm_masked"])
def test_masked_model_file_gives_keras_outputs(name, tag):
    """Masks through the graph: Embedding(mask_zero=True) -> Bidirectional(LSTM) -> Dense on a right-padded batch
    (Keras 3 records the mask as a NotEqual op node), and Masking -> LSTM -> Bidirectional(LSTM) -> GRU with
    padded steps. Ignoring the masks changes the outputs by ~1e-2 (measured before masks were carried), far
above the tolerance."""
    model = _load(name, tag)
    out = model(_inputs(name))
    assert_close(out, T[f"{name}.{tag}.out.0"])


def test_conv_lstm_weight_names_and_paths(tmp_path):
    """tf.keras names a ConvLSTM2D's weights without a cell scope (conv_lstm2d/kernel:0); Keras 3 keeps them in
    its cell group (layers/conv_lstm2d/cell/vars); both written and read back."""
    torch.manual_seed(0)
    module = torch.nn.Sequential(kt.layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True),
                                 kt.layers.ConvLSTM2D(1, 2))
    x = torch.randn(2, 3, 5, 5, 2)
    want = module(x)
    kt.save_keras_weights(module, tmp_path / "w.h5")
    assert _h5_weight_names(tmp_path / "w.h5")["conv_lstm2d"] == [
        "conv_lstm2d/kernel:0", "conv_lstm2d/recurrent_kernel:0", "conv_lstm2d/bias:0"]
    kt.save_keras_weights(module, tmp_path / "w.weights.h5")
    assert "layers/conv_lstm2d_1/cell/vars/1" in _keras3_datasets(tmp_path / "w.weights.h5")
    for name in ("w.h5", "w.weights.h5"):
        twin = torch.nn.Sequential(kt.layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True),
                                   kt.layers.ConvLSTM2D(1, 2))
        kt.load_keras_weights(twin, tmp_path / name)
        assert_close(twin(x), want)


def test_save_model_refuses_what_keras3_cannot_load(tmp_path):
    """Keras 3 has no CuDNNLSTM and no time_major: save_model says so, naming the layer, instead of writing a
    .keras file Keras 3 refuses."""
    cudnn = kt.models.load_model(FIXTURES / "rnn" / "models" / "cudnn.tf.h5")
    with pytest.raises(ValueError, match=r"Cannot save layer 'lstm_a' \(CuDNNLSTM\) to a .keras file: Keras 3 has no"):
        kt.models.save_model(cudnn, tmp_path / "m.keras")
    inp = kt.models.Input((4, 3))
    model = kt.models.Model(inp, kt.layers.LSTM(2, time_major=True, name="tm")(inp))
    with pytest.raises(ValueError, match=r"Cannot save layer 'tm' \(LSTM\) to a .keras file: it is time_major"):
        kt.models.save_model(model, tmp_path / "t.keras")


def test_loaded_text_classifier_exports_to_onnx():
    """The loaded Keras text classifier (Embedding(mask_zero) -> Bidirectional(LSTM) -> Dense) exports to ONNX
    (TorchScript exporter; the mask takes the step loop while tracing) and onnxruntime gives Keras's outputs."""
    import io
    import warnings

    import onnxruntime

    model = _load("text_classifier", "tf")
    x = _inputs("text_classifier")
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), buffer, dynamo=False, opset_version=17)
    session = onnxruntime.InferenceSession(buffer.getvalue())
    (y,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    assert_close(torch.from_numpy(y), T["text_classifier.tf.out.0"])


STACKED = load_json("rnn/stacked_states.json")
ST = load_tensors("rnn/stacked_states.safetensors")


def _nesting(y):
    return [_nesting(v) for v in y] if isinstance(y, (list, tuple)) else 0


def test_stacked_cells_return_state_nest_per_cell_as_keras(tmp_path):
    """RNN(StackedRNNCells([LSTMCell, GRUCell]), return_state=True): Keras's ``[out, [h1, c1], h2]`` symbolically,
    alone, from a Functional model (built, Keras's saved files, saved and loaded back); ``model.outputs`` flat."""
    x = ST["input"]
    inp = kt.models.Input((3, 2))
    rnn = L.RNN(L.StackedRNNCells([L.LSTMCell(4), L.GRUCell(3)]), return_state=True, name="stack")
    outs = rnn(inp)
    assert _nesting(outs) == STACKED["k3"]["symbolic"] == STACKED["tf"]["symbolic"]
    assert [t.shape for t in flat(outs)] == [(None, 3), (None, 4), (None, 4), (None, 3)]
    model = kt.models.Model(inp, outs)
    assert len(model.outputs) == STACKED["k3"]["outputs"] == 4
    model.set_weights([ST[f"weight.{i}"] for i in range(len(model.get_weights()))])
    model.eval()
    assert _nesting(rnn(x)) == _nesting(model(x)) == STACKED["k3"]["called"]
    path = tmp_path / "stacked.keras"
    kt.models.save_model(model, path)
    models = [model, kt.models.load_model(path)] + [kt.models.load_model(FIXTURES / "rnn" / STACKED[t]["file"]) for t in ("tf", "k3")]
    for tag, m in zip(("k3", "k3", "tf", "k3"), models):
        m.eval()
        y = m(x)
        assert _nesting(y) == STACKED[tag]["loaded"]
        for j, v in enumerate(flat(y)):
            assert_close(v, ST[f"{tag}.out.{j}"], msg=f"{m.name} output {j}")

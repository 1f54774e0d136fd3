"""Models and presets are found by name in their registries, and the CLI's choices read them (no torch)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from labelgraph.errors import ConfigError
from labelgraph.train.config import PRESETS, TrainConfig
from labelgraph.train.registry import MODELS, get_model, model_class, model_names, register_model
from labelgraph_cli.main import cli


def _train_command():
    return cli.get_command(None, "train")  # type: ignore[arg-type]


def test_cli_model_choices_are_the_registry() -> None:
    option = next(p for p in _train_command().params if p.name == "model")
    assert tuple(option.type.choices) == model_names() == ("mlgcn", "kssnet", "kssnet3d", "linear", "learned")


def test_cli_help_names_every_preset() -> None:
    result = CliRunner().invoke(cli, ["train", "--help"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split()).replace("- ", "-")   # undo click's wrapping
    assert set(PRESETS) == {"mlgcn-coco", "mlgcn-voc", "kssnet-coco", "kssnet-charades"}
    for name in PRESETS:
        assert name in text, name


def test_a_registered_model_is_valid_config_and_resolves_lazily() -> None:
    with pytest.raises(ConfigError, match="--model must be one of mlgcn, kssnet, kssnet3d"):
        TrainConfig(model="toy").validate()
    register_model("toy", "fractions:Fraction", "a test entry")
    try:
        assert TrainConfig(model="toy").validate().model == "toy"
        assert get_model("toy").summary == "a test entry"
        assert model_class("toy")(3, 6) == 0.5   # the "module:Class" target imported on use
    finally:
        MODELS.pop("toy")
    with pytest.raises(ConfigError, match=r"unknown model 'toy' \(models: mlgcn, kssnet, kssnet3d, linear, learned\)"):
        get_model("toy")

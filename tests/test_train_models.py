"""The GCN layer, the lateral connection and the models' shapes, against formulas written here."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from labelgraph.train.models import (MODELS, GCN, FeatureBackbone, GraphConvolution, KSSNet, KSSNet3D,  # noqa: E402
                                     LateralConnection, MLGCN, build_backbone, build_model)


def test_graph_convolution_is_a_h_w_by_hand() -> None:
    torch.manual_seed(0)
    layer = GraphConvolution(3, 2)
    A = np.array([[0.5, 0.5, 0.0], [0.25, 0.5, 0.25], [0.0, 0.5, 0.5]], dtype=np.float32)
    H = np.arange(9, dtype=np.float32).reshape(3, 3) / 10
    W = layer.weight.detach().numpy().astype(np.float64)
    want = np.zeros((3, 2))
    for i in range(3):           # (Â H W)_io = Σ_j Σ_k Â_ij H_jk W_ko
        for o in range(2):
            want[i, o] = sum(A[i, j] * H[j, k] * W[k, o] for j in range(3) for k in range(3))
    got = layer(torch.from_numpy(H), torch.from_numpy(A)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_gcn_stack_uses_leaky_relu_between_layers_only() -> None:
    torch.manual_seed(1)
    gcn = GCN(4, [5, 3])
    A, E = torch.rand(6, 6), torch.randn(6, 4)
    W1, W2 = gcn.layers[0].weight.detach(), gcn.layers[1].weight.detach()
    h1 = A @ E @ W1
    h1 = torch.where(h1 > 0, h1, 0.2 * h1)
    outs = gcn(E, A)
    torch.testing.assert_close(outs[0], h1)
    torch.testing.assert_close(outs[1], A @ h1 @ W2)


@pytest.mark.parametrize("dims", [2, 3])
def test_lateral_connection_equals_spec_formula(dims: int) -> None:
    torch.manual_seed(2)
    B, C, N = 2, 6, 4
    spatial = (3, 5) if dims == 2 else (2, 3, 4)
    lc = LateralConnection(C, N, spatial_dims=dims)
    x, E = torch.randn(B, C, *spatial), torch.randn(N, C)
    weight = lc.g.weight.detach().reshape(C, N)
    bias = lc.g.bias.detach()
    letters = "hw" if dims == 2 else "thw"
    # reshape(x)·tanh(E)ᵀ → B×N×(T)×H×W, then the 1×1 conv g: N → C, then + x
    corr = torch.einsum(f"bc{letters},nc->bn{letters}", x, torch.tanh(E))
    g = torch.einsum(f"cn,bn{letters}->bc{letters}", weight, corr) + bias.reshape(1, C, *([1] * dims))
    torch.testing.assert_close(lc(x, E), g + x, rtol=1e-5, atol=1e-5)


def test_mlgcn_logits_are_gmp_feature_times_gcn_classifier() -> None:
    torch.manual_seed(3)
    model = MLGCN(build_backbone("resnet18"), torch.eye(4) * 0.5 + 0.125, torch.randn(4, 10), hidden=16).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        fmap = model.backbone(x)
        feature = fmap.amax(dim=(2, 3))
        W1, W2 = model.gcn.layers[0].weight, model.gcn.layers[1].weight
        h = model.adjacency @ model.embeddings @ W1
        h = torch.nn.functional.leaky_relu(h, 0.2)
        classifier = model.adjacency @ h @ W2
        torch.testing.assert_close(model(x), feature @ classifier.t(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name,channels", [
    ("resnet18", (64, 128, 256, 512)),
    ("resnet50", (256, 512, 1024, 2048)),
    ("resnet101", (256, 512, 1024, 2048)),
])
def test_image_backbones_and_kssnet_shapes(name: str, channels: tuple[int, ...]) -> None:
    torch.manual_seed(4)
    backbone = build_backbone(name, pretrained=False)
    assert backbone.channels == channels
    model = KSSNet(backbone, torch.eye(5), torch.randn(5, 12)).eval()
    assert [layer.out_features for layer in model.gcn.layers] == list(channels)
    with torch.no_grad():
        assert backbone(torch.randn(1, 3, 64, 64)).shape == (1, channels[-1], 2, 2)
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 5)


def test_video_backbone_and_kssnet3d_shape() -> None:
    torch.manual_seed(5)
    backbone = build_backbone("r3d_18", pretrained=False)
    assert backbone.channels == (64, 128, 256, 512) and backbone.spatial_dims == 3
    model = build_model("kssnet3d", backbone, torch.eye(3), torch.randn(3, 8)).eval()
    assert isinstance(model, KSSNet3D)
    with torch.no_grad():
        assert model(torch.randn(1, 3, 4, 32, 32)).shape == (1, 3)


def test_kssnet3d_refuses_an_image_backbone() -> None:
    from labelgraph.errors import ConfigError

    with pytest.raises(ConfigError, match="video backbone"):
        KSSNet3D(build_backbone("resnet18"), torch.eye(2), torch.randn(2, 3))


def test_feature_backbone_model_and_registry() -> None:
    assert sorted(MODELS) == ["kssnet", "kssnet3d", "learned", "linear", "mlgcn"]
    model = build_model("mlgcn", FeatureBackbone(7), torch.eye(3), torch.randn(3, 4), hidden=8)
    assert model(torch.randn(5, 7)).shape == (5, 3)

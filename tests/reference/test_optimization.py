"""Tests for reference.optimization (section 2) against torch.optim, functional ops and autograd."""

import pytest
import torch
import torch.nn.functional as F
from torch.autograd.functional import hessian

from reference.optimization import (
    adam_step,
    classify_critical_point,
    linear_backward,
    log_softmax,
    mlp_backward,
    mlp_forward,
    momentum_step,
    relu,
    relu_backward,
    sgd_step,
    sigmoid,
    sigmoid_backward,
    softmax,
    softmax_cross_entropy,
    tanh_backward,
)
from tests.strategies import generator, randn

F64 = torch.float64
BATCHES = [1, 2, 7]


def _autograd(fn, *inputs, dout):
    leaves = [t.detach().clone().requires_grad_() for t in inputs]
    fn(*leaves).backward(dout)
    return [t.grad for t in leaves]


# --- optimizers ---------------------------------------------------------------------------


@pytest.mark.parametrize("b", BATCHES)
def test_sgd_step_equals_torch_sgd_on_the_mean_loss(b):
    targets = randn(b, 3, 2, seed=b)
    theta0 = randn(3, 2, seed=100)

    def example_loss(theta, k):
        return ((theta - targets[k]) ** 3).abs().sum()

    per_example = []
    for k in range(b):
        theta = theta0.clone().requires_grad_()
        example_loss(theta, k).backward()
        per_example.append(theta.grad)
    param = torch.nn.Parameter(theta0.clone())
    opt = torch.optim.SGD([param], lr=0.05)
    torch.stack([example_loss(param, k) for k in range(b)]).mean().backward()
    opt.step()
    torch.testing.assert_close(sgd_step(theta0, torch.stack(per_example), 0.05), param.detach())


@pytest.mark.parametrize("lr, mu", [(0.1, 0.9), (0.01, 0.5), (0.3, 0.0)])
def test_momentum_matches_torch_sgd_over_several_steps(lr, mu):
    param = torch.nn.Parameter(randn(4, 3, seed=1))
    opt = torch.optim.SGD([param], lr=lr, momentum=mu)
    theta, velocity = param.detach().clone(), torch.zeros(4, 3, dtype=F64)
    for step in range(6):
        grad = randn(4, 3, seed=10 + step)
        param.grad = grad.clone()
        opt.step()
        theta, velocity = momentum_step(theta, velocity, grad, lr, mu)
        torch.testing.assert_close(theta, param.detach())


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize(
    "hyper", [{}, {"lr": 0.1, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}, {"lr": 0.5, "beta1": 0.0, "beta2": 0.5}]
)
@pytest.mark.parametrize("shape", [(1,), (3, 5)])
def test_adam_matches_torch_adam_over_several_steps(dtype, hyper, shape):
    torch_kwargs = {"lr": hyper.get("lr", 1e-3), "betas": (hyper.get("beta1", 0.9), hyper.get("beta2", 0.999)),
                    "eps": hyper.get("eps", 1e-8)}
    param = torch.nn.Parameter(randn(*shape, seed=2, dtype=dtype))
    opt = torch.optim.Adam([param], **torch_kwargs)
    p, m, v = param.detach().clone(), torch.zeros(shape, dtype=dtype), torch.zeros(shape, dtype=dtype)
    for t in range(1, 8):
        grad = randn(*shape, seed=20 + t, dtype=dtype)
        param.grad = grad.clone()
        opt.step()
        p, m, v = adam_step(p, grad, m, v, t, **hyper)
        torch.testing.assert_close(p, param.detach())
        state = opt.state[param]
        torch.testing.assert_close(m, state["exp_avg"])
        torch.testing.assert_close(v, state["exp_avg_sq"])


def test_first_adam_step_moves_each_coordinate_by_about_lr():
    # with bias correction, step 1 gives m_hat = g and v_hat = g^2, so the update is lr * sign(g)
    g = torch.tensor([3.0, -0.02, 500.0], dtype=F64)
    p, _, _ = adam_step(torch.zeros(3, dtype=F64), g, torch.zeros(3, dtype=F64), torch.zeros(3, dtype=F64), 1, lr=0.01)
    torch.testing.assert_close(p, -0.01 * g.sign(), atol=1e-8, rtol=0)


# --- critical points ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, fn, expected",
    [
        (2, lambda z: z[0] ** 2 + 3 * z[1] ** 2 + z[0] * z[1], "minimum"),
        (3, lambda z: -(z[0] ** 2) - z[1] ** 2 - z[2] ** 2, "maximum"),
        (2, lambda z: z[0] ** 2 - z[1] ** 2, "saddle"),
        (2, lambda z: z[0] * z[1], "saddle"),
        (2, lambda z: z[0] ** 4 + z[1] ** 2, "degenerate"),
        (2, lambda z: z[0] ** 3 - z[1] ** 2, "degenerate"),
        (3, lambda z: z[0] ** 2 - z[1] ** 2 + z[2] ** 4, "saddle"),
    ],
)
def test_classify_critical_point_at_origin(n, fn, expected):
    assert classify_critical_point(hessian(fn, torch.zeros(n, dtype=F64))) == expected


@pytest.mark.parametrize("signs, expected", [((1, 2, 5), "minimum"), ((-1, -4, -0.1), "maximum"),
                                             ((1, -1, 3), "saddle"), ((2, 0, 3), "degenerate")])
def test_classify_critical_point_rotated_spectra(signs, expected):
    q, _ = torch.linalg.qr(randn(3, 3, seed=5))
    h = q @ torch.diag(torch.tensor(signs, dtype=F64)) @ q.T
    assert classify_critical_point(h) == expected


# --- softmax and cross-entropy --------------------------------------------------------------


@pytest.mark.parametrize("shape, dim", [((4, 5), -1), ((4, 5), 0), ((2, 3, 6), 1), ((1, 1), -1)])
@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_softmax_and_log_softmax_match_torch(shape, dim, scale):
    x = randn(*shape, seed=3, scale=scale)
    torch.testing.assert_close(softmax(x, dim), torch.softmax(x, dim))
    torch.testing.assert_close(log_softmax(x, dim), F.log_softmax(x, dim))
    assert torch.isfinite(log_softmax(x, dim)).all()


@pytest.mark.parametrize("n, c", [(1, 2), (1, 10), (5, 3), (16, 7)])
@pytest.mark.parametrize("scale", [1.0, 30.0, 1e4])
def test_softmax_cross_entropy_matches_torch(n, c, scale):
    logits = randn(n, c, seed=n * c, scale=scale)
    y = torch.randint(0, c, (n,), generator=generator(n + c))
    leaf = logits.clone().requires_grad_()
    expected_loss = F.cross_entropy(leaf, y)
    expected_loss.backward()
    loss, dlogits = softmax_cross_entropy(logits, y)
    assert torch.isfinite(loss) and torch.isfinite(dlogits).all()
    torch.testing.assert_close(loss, expected_loss.detach())
    torch.testing.assert_close(dlogits, leaf.grad)


def test_softmax_cross_entropy_by_hand_and_leaves_logits_untouched():
    logits = torch.tensor([[0.0, 0.0], [0.0, 1e4]], dtype=F64)
    copy = logits.clone()
    loss, dlogits = softmax_cross_entropy(logits, torch.tensor([0, 0]))
    # row 0: log 2; row 1: -log p0 = 1e4 (up to exp(-1e4))
    assert loss.item() == pytest.approx((torch.log(torch.tensor(2.0)).item() + 1e4) / 2)
    torch.testing.assert_close(dlogits, torch.tensor([[-0.25, 0.25], [-0.5, 0.5]], dtype=F64))
    assert torch.equal(logits, copy)


# --- activations and layers -----------------------------------------------------------------


def _with_exact_zeros(x):
    x = x.clone()
    x.view(-1)[::3] = 0.0
    return x


@pytest.mark.parametrize("shape", [(1, 1), (4, 6), (2, 3, 5)])
def test_relu_and_relu_backward_match_autograd_including_zeros(shape):
    x = _with_exact_zeros(randn(*shape, seed=4))
    dout = randn(*shape, seed=44)
    torch.testing.assert_close(relu(x), F.relu(x))
    (expected,) = _autograd(F.relu, x, dout=dout)
    dx = relu_backward(dout, x)
    torch.testing.assert_close(dx, expected)
    assert (dx[x == 0] == 0).all()


@pytest.mark.parametrize("scale", [1.0, 50.0, 1e3])
def test_sigmoid_is_stable_and_matches_torch(scale):
    x = randn(5, 4, seed=6, scale=scale)
    s = sigmoid(x)
    assert torch.isfinite(s).all()
    torch.testing.assert_close(s, torch.sigmoid(x))
    assert sigmoid(torch.tensor([-1e4, 0.0, 1e4], dtype=F64)).tolist() == [0.0, 0.5, 1.0]


@pytest.mark.parametrize("shape", [(1, 3), (6, 2)])
def test_sigmoid_and_tanh_backward_match_autograd(shape):
    x, dout = randn(*shape, seed=7, scale=3.0), randn(*shape, seed=77)
    torch.testing.assert_close(sigmoid_backward(dout, x), _autograd(torch.sigmoid, x, dout=dout)[0])
    torch.testing.assert_close(tanh_backward(dout, x), _autograd(torch.tanh, x, dout=dout)[0])


@pytest.mark.parametrize("n, d_in, d_out", [(1, 1, 1), (1, 4, 2), (5, 3, 7), (8, 6, 6)])
def test_linear_backward_matches_autograd(n, d_in, d_out):
    x, W, b = randn(n, d_in, seed=8), randn(d_in, d_out, seed=9), randn(d_out, seed=10)
    dout = randn(n, d_out, seed=11)
    expected = _autograd(lambda x_, W_, b_: x_ @ W_ + b_, x, W, b, dout=dout)
    for got, want in zip(linear_backward(x, W, dout), expected):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("n, d, h, c", [(1, 3, 4, 2), (6, 5, 8, 3)])
def test_mlp_forward_and_backward_match_torch_modules(n, d, h, c):
    net = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.ReLU(), torch.nn.Linear(h, c)).double()
    x = randn(n, d, seed=12).requires_grad_()
    W1, b1 = net[0].weight.detach().T, net[0].bias.detach()
    W2, b2 = net[2].weight.detach().T, net[2].bias.detach()
    scores, cache = mlp_forward(x.detach(), W1, b1, W2, b2)
    expected_scores = net(x)
    torch.testing.assert_close(scores, expected_scores.detach())
    dscores = randn(n, c, seed=13)
    expected_scores.backward(dscores)
    grads = mlp_backward(dscores, cache)
    assert set(grads) == {"dx", "dW1", "db1", "dW2", "db2"}
    torch.testing.assert_close(grads["dx"], x.grad)
    torch.testing.assert_close(grads["dW1"], net[0].weight.grad.T)
    torch.testing.assert_close(grads["db1"], net[0].bias.grad)
    torch.testing.assert_close(grads["dW2"], net[2].weight.grad.T)
    torch.testing.assert_close(grads["db2"], net[2].bias.grad)

"""Uncertainty: Monte-Carlo dropout gives predictive intervals on a regression task
(noisy sin curve with more noise on the right); calibration is the share of test targets
inside the nominal 90% interval.

Full run: coverage of the 90% interval 0.94; the interval is about twice as wide on the
noisier right half.
Run: uv run python examples/uncertainty_mc_dropout.py [--quick]
"""

import argparse

import numpy as np

import shendu
from shendu import layers as L

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true")
args = parser.parse_args()
shendu.set_random_seed(0)
rng = np.random.default_rng(0)

x = rng.uniform(-3, 3, (1500, 1)).astype("float32")
noise = 0.1 + 0.2 * (x > 0)
y = (np.sin(x) + noise * rng.standard_normal(x.shape)).astype("float32")
x_train, x_test, y_train, y_test = shendu.datasets.train_test_split(x, y, seed=0)

model = shendu.Sequential(
    [
        L.Input((1,)),
        L.Dense(64, activation="relu"),
        L.Dropout(0.1),
        L.Dense(64, activation="relu"),
        L.Dropout(0.1),
        L.Dense(2),
    ]
)


def gaussian_nll(y_true, out):
    """Negative log-likelihood of y under N(mean, exp(log_var)), both predicted."""
    from shendu import ops

    mean, log_var = out[:, :1], out[:, 1:]
    return ops.mean(0.5 * (log_var + ops.square(y_true - mean) / ops.exp(log_var)), axis=-1)


model.compile(shendu.optimizers.Adam(0.003), gaussian_nll)
model.fit(x_train, y_train, epochs=40 if args.quick else 150, batch_size=64, verbose=0)

# Monte-Carlo dropout: keep dropout on at prediction time and sample
with shendu.no_grad():
    draws = np.stack([model(x_test, training=True).numpy() for _ in range(50)])
means, stds = draws[..., 0], np.exp(0.5 * draws[..., 1])
mu = means.mean(0)
sigma = np.sqrt(stds.mean(0) ** 2 + means.var(0))  # aleatoric + epistemic
inside = np.abs(y_test[:, 0] - mu) <= 1.645 * sigma
print(
    f"RMSE {np.sqrt(((mu - y_test[:, 0]) ** 2).mean()):.3f}; interval width left "
    f"{sigma[x_test[:, 0] < 0].mean():.3f} vs right {sigma[x_test[:, 0] > 0].mean():.3f}"
)
print(f"coverage_90={inside.mean():.4f}")

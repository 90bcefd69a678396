"""Plots of chain profiles (matplotlib, an optional dependency imported only when a plot is made).

:func:`plot_profile` draws the exponent profile α̂(P_l) of the prefixes against depth with its
certified drift band: starting from α̂(P_0) = 0, each interface may move the exponent by at most
the R2(e) bound ‖w‖₁·log ρ_l (LS chart) or the R2(c) bound (other charts), so the band
α̂_0 ± Σ_{j≤l} bound_j contains the whole profile. The per-factor exponents α̂(J_l) and the slack
σ_l are drawn in two lower panels.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

__all__ = ["plot_profile"]


def plot_profile(chain: Any, certificate: Any = None, *, path: Optional[str] = None, chart: str = "ls") -> Any:
    """Draws the exponent profile of ``chain`` (a :class:`gsalign.Chain`) with its certified drift
    band from ``certificate`` (default: ``chain.certify(chart=chart)``); saves a PNG to ``path``
    when given. Returns the matplotlib ``Figure``. Raises ImportError without matplotlib."""
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    cert = certificate if certificate is not None else chain.certify(chart=chart)
    chart = cert.chart
    pre, prof = chain.prefix_profile(), chain.profile()
    table = cert.table()
    name = "R2(e)" if chart == "ls" else "R2(c)"
    step = np.asarray(table[f"{name}.upper"], dtype=float)
    step = np.where(np.isfinite(step), step, np.nan)
    band = np.nancumsum(step)
    depth = np.arange(0, len(chain) + 1)
    alpha = np.concatenate([[0.0], np.asarray(pre[f"alpha_{chart}"], dtype=float)])
    upper = np.concatenate([[0.0], band])

    fig, axes = plt.subplots(3, 1, figsize=(8, 8), sharex=True, gridspec_kw={"height_ratios": [3, 1.3, 1.3]})
    ax = axes[0]
    # Exponents are >= 0, so the band is clipped at 0 below; the view keeps the profile readable.
    ax.fill_between(depth, np.maximum(alpha[0] - upper, 0.0), alpha[0] + upper, color="tab:blue", alpha=0.15,
                    label=f"certified drift band alpha_0 +/- sum of {name} bounds")
    ax.plot(depth, alpha, color="tab:blue", lw=1.6, label=f"profile exponent alpha_{chart}(P_l)")
    ax.set_ylabel("alpha")
    top = np.nanmax(alpha) if np.any(np.isfinite(alpha)) else 1.0
    ax.set_ylim(0.0, max(3.0 * top, 1e-3))
    ax.set_title(f"Exponent profile, L = {len(chain)}: certificate {'holds' if cert.holds else 'FAILS'}")
    ax.legend(loc="upper left", fontsize=8)
    axes[1].plot(depth[1:], prof[f"alpha_{chart}"], color="tab:orange", lw=0.8)
    axes[1].set_ylabel("alpha(J_l)")
    axes[2].plot(depth[1:], chain.slack(), color="tab:green", lw=0.8)
    axes[2].set_ylabel("slack sigma_l")
    axes[2].set_xlabel("depth l")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig

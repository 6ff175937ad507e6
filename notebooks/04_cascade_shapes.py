# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. Cascade shapes: broadcast or viral?
#
# Every view of a video came from somewhere: the platform showed it (For You), the creator's
# followers saw it (Following), or someone shared it. Draw an arrow from where each view came
# from to the view, and you get the **spread tree**: the upload is the root, a share view hangs
# from the view of the person who shared it.
#
# Two videos with the same number of views can have very different trees:
#
# - **broadcast**: one source reaches everyone directly, like TV. The tree is a *star*;
# - **viral**: person to person to person, like a rumour. The tree has long *chains*.
#
# Goel, Anderson, Hofman and Watts (2016) measure this with **structural virality**: the average
# number of steps between two nodes of the tree, over all pairs of nodes. A star stays close to 2
# (every pair is two steps apart through the centre); long chains give large values.

# %%
# %matplotlib inline
from pathlib import Path

from matplotlib.figure import Figure

from viralsim import Scenario, load_scenario, simulate, structural_virality
from viralsim.ensemble import compare
from viralsim.plots import plot_tree

HERE = Path.cwd()
SCENARIOS = next(p / "scenarios" for p in [HERE, *HERE.parents] if (p / "scenarios" / "tiny.toml").exists())

# %% [markdown]
# ## Warm-up: a star and a chain
#
# A tree can be written as a list of parents: `parent[i]` is the node that node `i` came from,
# `-1` for the root. Let's check the measure on a star and a chain of 10 nodes, against the
# formulas from the paper: a star of n nodes gives 2(n−1)/n, a chain of n nodes gives (n+1)/3.

# %%
n = 10
star = [-1] + [0] * (n - 1)          # everyone got it from node 0
chain = [-1] + list(range(n - 1))    # node i got it from node i - 1
print(f"star of {n}:  structural virality {structural_virality(star):.3f}, formula 2(n-1)/n = {2 * (n - 1) / n:.3f}")
print(f"chain of {n}: structural virality {structural_virality(chain):.3f}, formula (n+1)/3 = {(n + 1) / 3:.3f}")

# %% [markdown]
# ## Three worlds
#
# We use the small `tiny.toml` world and add two variants right here (a variant is a table of
# fields to change, exactly like the `[variants.NAME]` tables of a scenario file):
#
# - `base`: the platform pushes the video; sharing is rare (the content graph does the work);
# - `shareable_social`: no push, and a video people love to forward: each viewer shares it with a
#   much higher probability (`behaviour.p_share`, exaggerated on purpose so that cascades grow);
# - `shareable_hybrid`: the same shareable video, with the push switched on.

# %%
tiny = load_scenario(SCENARIOS / "tiny.toml")
settings = tiny.model_dump()
settings["variants"] = {
    "shareable_social": {"platform": {"push": {"mode": "social"}}, "behaviour": {"p_share": 0.5}},
    "shareable_hybrid": {"behaviour": {"p_share": 0.5}},
}
worlds = Scenario.model_validate(settings)  # checked like a scenario file
print(f"p_share in base: {tiny.behaviour.p_share}; in the shareable variants: 0.5")

RUNS = 20
cmp = compare(worlds, runs=RUNS, seed=1)
runs = cmp.runs

# %% [markdown]
# Medians over the runs (`cascade_depth` is the longest chain of shares;
# `algorithmic_share` the share of views that came from the platform's push):

# %%
metrics = ["views", "shares", "algorithmic_share", "cascade_depth", "structural_virality"]
summary = runs.groupby("variant", sort=False)[metrics].median()
summary.round(3)

# %%
for variant, row in summary.iterrows():
    print(f"{variant:>17}: {row['views']:>8,.0f} views, {row['algorithmic_share']:6.1%} from the push, "
          f"structural virality {row['structural_virality']:.2f}")

# %% [markdown]
# ## The distributions
#
# One box per world: the structural virality of each of its runs.

# %%
names = list(summary.index)
fig = Figure(figsize=(8, 4), layout="constrained")  # shown once, as the result of the cell
ax = fig.subplots()
ax.boxplot([runs.loc[runs["variant"] == v, "structural_virality"] for v in names], tick_labels=names)
ax.axhline(2, color="grey", ls=":", lw=1)
ax.text(0.5, 2, " star (broadcast)", color="grey", va="bottom", fontsize=9)
ax.set_ylabel("structural virality")
ax.set_title(f"Shape of the spread tree, {RUNS} runs per world")
ax.grid(alpha=0.3, axis="y")
fig

# %% [markdown]
# In `base`, where the push does the work, the tree is a huge star with the platform at its
# centre: the most *broadcast* shape, close to 2. The shareable video without a push reaches far
# fewer people, but along long chains of friends. With both (`shareable_hybrid`), the chains hang
# from a big star, and the virality lands in between. Size and virality are different things.
#
# Bigger trees can look more viral just because they have more room for long chains, so
# researchers compare virality at **similar sizes** (Juul and Ugander, 2021). Here every run is one
# dot: views against virality.

# %%
fig = Figure(figsize=(8, 4.5), layout="constrained")  # shown once, as the result of the cell
ax = fig.subplots()
for v in names:
    sub = runs[runs["variant"] == v]
    ax.scatter(sub["views"], sub["structural_virality"], label=v, alpha=0.7)
ax.set_xscale("log")
ax.set_xlabel("views (log)")
ax.set_ylabel("structural virality")
ax.grid(alpha=0.3)
ax.legend()
fig

# %% [markdown]
# ## Drawing the trees
#
# One run of the shareable video without a push. The black star in the middle is the upload; the
# first ring holds the views from the Following feed; each further ring is one more generation of
# shares.

# %%
viral = simulate(worlds, seed=1, variant="shareable_social")
s = viral.summary
print(f"{s['views']:,} views, {s['shares']:,} shares, {s['cascade_depth']} share generations, "
      f"structural virality {s['structural_virality']:.2f}")
plot_tree(viral.views_frame())

# %% [markdown]
# And one run of the base world. It has too many views to draw them all, so `plot_tree` draws
# only the share cascades; the thousands of For You views that hang straight from the upload are
# left out (the title says how many are shown).

# %%
pushed = simulate(tiny, seed=1)
s = pushed.summary
print(f"{s['views']:,} views, {s['views_by_source']['for_you']:,} from For You, {s['shares']:,} shares, "
      f"structural virality {s['structural_virality']:.2f}")
plot_tree(pushed.views_frame())

# %% [markdown]
# ## Try this
#
# - Change `p_share` in the shareable variants (0.3? 0.7?): when do cascades stop dying out?
# - Send each share to more friends: `{"platform": {"sharing": {"recipients_per_share": 8}}}`.
# - Give the creator more followers (`creator.followers`) in `shareable_social`: does the tree get
#   more viral, or just a bigger star at the centre?
# - Compute the structural virality of your own small trees with `structural_virality(parents)`.

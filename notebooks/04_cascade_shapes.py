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

import pandas as pd
from matplotlib.figure import Figure

from viralsim import load_scenario, simulate, structural_virality
from viralsim.ensemble import compare, run_ensemble
from viralsim.plots import plot_tree
from viralsim.scenario import apply_variant

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
# ## Two videos: pushed and passed on
#
# Two bundled scenarios make the two shapes (open the files: they are commented like lessons):
#
# - `bees_bike`: the famous case. The platform's push takes a small account's video to ~700K
#   people, and only a few dozen share it. The content graph does the work;
# - `viral_chain`: a nomination challenge. Its 60 s clip fails the push's first gate (strangers
#   do not watch to the end), but it is made to be passed on: each viewer reposts it to their
#   contacts often enough that every view leads to about one more. The social graph does the work.
#
# `viral_chain` has variants that take the story apart: `social` (no push at all), `short_cut` (a
# 15 s cut that passes the gate, so the push broadcasts it) and `half_as_shareable` (half the share
# propensity). `compare` runs them all on the same random numbers.

# %%
bees = load_scenario(SCENARIOS / "bees_bike.toml")
chain = load_scenario(SCENARIOS / "viral_chain.toml")
print(f"p_share: bees_bike {bees.behaviour.p_share}, viral_chain {chain.behaviour.p_share}")
print(f"each share goes to: bees_bike {bees.platform.sharing.recipients_per_share} contacts, "
      f"viral_chain {chain.platform.sharing.recipients_per_share} of them "
      f"({chain.platform.sharing.open_probability:.0%} open it)")

RUNS = 20
runs = pd.concat(
    [
        run_ensemble(bees, runs=10, seed=1).runs.assign(variant="bees_bike"),
        compare(chain, runs=RUNS, seed=chain.seed).runs.replace({"variant": {"base": "viral_chain"}}),
    ],
    ignore_index=True,
)
runs["from_shares"] = runs["views_share"] / runs["views"]

# %% [markdown]
# Medians over the runs (10 of `bees_bike`, the big one, and 20 of each `viral_chain` world;
# `from_shares` is the share of the views that came by a share, `cascade_depth` the longest chain
# of shares):

# %%
metrics = ["views", "from_shares", "stages_reached", "cascade_depth", "structural_virality"]
summary = runs.groupby("variant", sort=False)[metrics].median()
summary.round(3)

# %%
for variant, row in summary.iterrows():
    print(f"{variant:>17}: {row['views']:>9,.0f} views, {row['from_shares']:6.1%} by shares, "
          f"depth {row['cascade_depth']:4.1f}, structural virality {row['structural_virality']:.2f}")

# %% [markdown]
# ## The distributions
#
# One box per world: the structural virality of each of its runs.

# %%
names = list(summary.index)
fig = Figure(figsize=(9, 4), layout="constrained")  # shown once, as the result of the cell
ax = fig.subplots()
ax.boxplot([runs.loc[runs["variant"] == v, "structural_virality"] for v in names], tick_labels=names)
ax.axhline(2, color="grey", ls=":", lw=1)
ax.text(0.5, 2, " star (broadcast)", color="grey", va="bottom", fontsize=9)
ax.set_ylabel("structural virality")
ax.set_title("Shape of the spread tree: bees_bike (10 runs) and viral_chain's worlds (20 runs each)")
ax.grid(alpha=0.3, axis="y")
fig

# %% [markdown]
# `bees_bike` is a huge star with the platform at its centre: the most *broadcast* shape, 2.0.
# `viral_chain` is the other extreme: its views hang from each other in chains dozens of shares
# long. Its variants show what makes it:
#
# - `short_cut`: the same shareable video, but short enough to pass the gate. The push now reaches
#   most of the platform, shares still bring many views, but they hang from a big star: virality
#   falls. Size and virality are different things;
# - `social`: no push at all. The chains can start only from the creator's followers, and near a
#   reproduction number of 1 most chains die young: only some runs take off (the wide box). The
#   push's one failed stage gave the base more starting points;
# - `half_as_shareable`: below a reproduction number of 1, every chain dies out.
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
# The first two days of one `viral_chain` run (the same run stopped at 48 hours: a full run has
# tens of thousands of views, too many to draw). The black star in the middle is the upload; the
# first ring holds the views from the push's first cohort and the Following feed; each further
# ring is one more generation of shares.

# %%
early = simulate(apply_variant(chain, {"horizon_h": 48}), seed=chain.seed)
s = early.summary
print(f"first 48 h: {s['views']:,} views, {s['shares']:,} shares, {s['cascade_depth']} share generations, "
      f"structural virality {s['structural_virality']:.2f}")
plot_tree(early.views_frame())

# %% [markdown]
# And one run of `bees_bike`. It has far too many views to draw them all, so `plot_tree` draws
# only the share cascades; the hundreds of thousands of For You views that hang straight from the
# upload are left out (the title says how many are shown).

# %%
pushed = simulate(bees, seed=1)
s = pushed.summary
print(f"{s['views']:,} views, {s['views_by_source']['for_you']:,} from For You, {s['shares']:,} shares, "
      f"structural virality {s['structural_virality']:.2f}")
plot_tree(pushed.views_frame())

# %% [markdown]
# ## Try this
#
# - Find the reproduction number's 1 in `viral_chain`: try `p_share` between 0.015 and 0.03
#   (`apply_variant(chain, {"behaviour": {"p_share": 0.02}})`), or `platform.sharing.open_probability`.
# - A heavier-tailed social graph: `{"social_graph": {"degree_exponent": 2.2}}`. Do hubs make the
#   chains go further, or do they die sooner?
# - When does the push take over? Try `video.duration_s` between 15 and 60.
# - Compute the structural virality of your own small trees with `structural_virality(parents)`.

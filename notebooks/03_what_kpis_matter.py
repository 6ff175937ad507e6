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
# # 3. What KPIs matter?
#
# At every stage of the push the platform checks the video's KPIs (key performance indicators):
# the **completion rate** (share of views watched to the end), the **like rate**, and so on. If a
# KPI is below its threshold, the push stops.
#
# Two things decide whether a video passes: how good it is (its *appeal*), and how demanding the
# platform is (its *thresholds*). A **sweep** runs the simulation for every combination of a few
# values of each, several times each, and we look at the result as a map.
#
# We use `tiny.toml`, a small world of 20 000 users, so that hundreds of runs take seconds.

# %%
# %matplotlib inline
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from viralsim import load_scenario
from viralsim.ensemble import sweep
from viralsim.plots import plot_sweep
from viralsim.scenario import apply_variant

HERE = Path.cwd()
SCENARIOS = next(p / "scenarios" for p in [HERE, *HERE.parents] if (p / "scenarios" / "tiny.toml").exists())

tiny = load_scenario(SCENARIOS / "tiny.toml")
push = tiny.platform.push
STAGES = len(push.cohorts)
print(f"{tiny.population.users:,} users; cohorts {push.cohorts}; thresholds: "
      + ", ".join(f"{k} >= {v:.0%}" for k, v in push.thresholds.model_dump().items() if v is not None))

# %% [markdown]
# ## The sweep
#
# Fields are named by their dotted path in the scenario file: `video.appeal` is `appeal` in the
# `[video]` table. Each grid point runs `RUNS` times.

# %%
COMPLETION = "platform.push.thresholds.completion"
APPEAL = "video.appeal"
RUNS = 8

sw = sweep(tiny, {COMPLETION: [0.05, 0.1, 0.15, 0.2, 0.25], APPEAL: [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]},
           runs=RUNS, seed=1)
runs = sw.runs  # one row per run, with the swept values as columns
print(f"{len(runs)} runs: {runs[COMPLETION].nunique()} thresholds x {runs[APPEAL].nunique()} appeals x {RUNS} runs")

# %% [markdown]
# ## The map
#
# Each cell is the median number of views over the runs of one combination. Dark cells: the push
# stopped early. Bright cells: the video went all the way.

# %%
plot_sweep(runs, [COMPLETION, APPEAL], metric="views")

# %% [markdown]
# The same numbers as lines: one line per threshold, views against appeal.

# %%
table = sw.table(["views", "stages_passed"])
views = table.pivot(index=APPEAL, columns=COMPLETION, values="views_median")

fig = Figure(figsize=(8, 4.5), layout="constrained")  # shown once, as the result of the cell
ax = fig.subplots()
for threshold in views.columns:
    ax.plot(views.index, views[threshold], marker="o", label=f"completion >= {threshold:.0%}")
ax.set_yscale("log")
ax.set_xlabel("video appeal")
ax.set_ylabel("median views (log)")
ax.set_title("A stricter platform needs a better video")
ax.grid(alpha=0.3)
ax.legend()
fig

# %% [markdown]
# ## Reading the map
#
# For each threshold: how good must the video be for the push to pass **every** stage in at
# least half of the runs?

# %%
runs["passed_all"] = runs["stages_passed"] == STAGES
share_passed = runs.groupby([COMPLETION, APPEAL])["passed_all"].mean().unstack()

for threshold, row in share_passed.iterrows():
    good = row[row >= 0.5]
    need = f"appeal {good.index.min():g} or more" if len(good) else "more appeal than any we tried"
    print(f"completion threshold {threshold:.0%}: the push goes all the way with {need}")

# %% [markdown]
# A small change in the threshold moves the line a lot: the platform does not need to be much
# stricter to stop a decent video at the first stage.
#
# ## Which KPI stops the push?
#
# Each run records why its push stopped. Count the reasons for each completion threshold (in % of
# the runs, all appeals together).

# %%
reasons = pd.crosstab(runs[COMPLETION], runs["stop_reason"], normalize="index").mul(100).round(0)
reasons

# %%
stopped = runs[runs["stop_reason"] != "all_stages_passed"]
for threshold, group in stopped.groupby(COMPLETION):
    top = group["stop_reason"].value_counts()
    print(f"completion threshold {threshold:.0%}: {len(group)} pushes stopped, most often by "
          f"{top.index[0].split(':')[-1]} ({top.iloc[0] / len(group):.0%} of them)")

# %% [markdown]
# `all_stages_passed` means the push went all the way; `kpi_below_threshold:completion,like`
# means both KPIs missed at once. In this world the completion threshold stops most pushes and
# the like threshold rarely does on its own (check the lines above): a video that people watch to
# the end is also one they tend to like.
#
# ## The like threshold on its own
#
# Is the like threshold irrelevant, then? Only because the completion threshold stopped the
# pushes first. Take a good video (appeal 0.8), make completion easy to pass (5 %), and sweep the
# like threshold.

# %%
LIKE = "platform.push.thresholds.like"
easy = apply_variant(tiny, {"video": {"appeal": 0.8}, "platform": {"push": {"thresholds": {"completion": 0.05}}}})
like_sweep = sweep(easy, {LIKE: [0.02, 0.04, 0.06, 0.08, 0.1, 0.12]}, runs=RUNS, seed=1)
plot_sweep(like_sweep.runs, [LIKE], metric="views")

# %%
like_runs = like_sweep.runs
for threshold, group in like_runs.groupby(LIKE):
    by_like = (group["stop_reason"] == "kpi_below_threshold:like").mean()
    print(f"like threshold {threshold:.0%}: median {group['views'].median():,.0f} views; "
          f"{by_like:.0%} of the runs stopped by the like rate alone")

# %% [markdown]
# Now the like rate decides: once its threshold is above the like rate of the wider cohorts, the
# push stops there. **Which KPI matters is the one closest to its threshold**, and that depends
# on both the video and the platform's settings.
#
# ## Try this
#
# - Sweep `behaviour.interest_floor` (how much people outside the topic enjoy the video) instead
#   of appeal: does a video with broad appeal go further?
# - Add a share threshold: `platform.push.thresholds.share` with values like `0.001, 0.005, 0.01`.
# - Use `metric="stages_passed"` in `plot_sweep` to see how far the push got instead of views.
# - Raise `RUNS` and see whether the map gets smoother.

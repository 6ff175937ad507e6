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
# # 1. How the push works
#
# In 2017 a creator with a few hundred followers posted a video of bees taking over his bike.
# It was watched **721K times** but shared only **26 times**. So who showed it to all those
# people? The platform did.
#
# The platform works in steps:
#
# 1. **Moderation**: is the video allowed?
# 2. **Recognition**: what is it about (here: animals)?
# 3. **First cohort**: show it to a small group of people who love that topic.
# 4. **Staged push**: measure how this group reacted (the *KPIs*: did they watch to the end? did
#    they like it?). If the KPIs beat the platform's thresholds, show it to a larger group, a bit
#    further from the topic. If not, stop.
#
# In this notebook we simulate the bees video once and look at each step of that push.

# %%
# %matplotlib inline
from pathlib import Path

import pandas as pd

from viralsim import load_scenario, simulate
from viralsim.plots import plot_funnel, plot_reach

# the scenarios folder of the repository (this notebook lives in notebooks/)
HERE = Path.cwd()
SCENARIOS = next(p / "scenarios" for p in [HERE, *HERE.parents] if (p / "scenarios" / "bees_bike.toml").exists())

# %% [markdown]
# ## The scenario
#
# A scenario file describes the world: how many users, what they like, the video, and the
# platform's rules. Here are the rules of the push: the size of each cohort and the KPI
# thresholds a stage must beat.

# %%
bees = load_scenario(SCENARIOS / "bees_bike.toml")
push = bees.platform.push
thresholds = {k: v for k, v in push.thresholds.model_dump().items() if v is not None}

print(f"{bees.population.users:,} users; the video is about {bees.video.topic!r}, "
      f"appeal {bees.video.appeal} (0 = dull, 1 = irresistible)")
print(f"the creator has {bees.creator.followers:,} followers")
print("cohort sizes:", ", ".join(f"{c:,}" for c in push.cohorts))
print("thresholds:", ", ".join(f"{k} rate >= {v:.0%}" for k, v in thresholds.items()))

# %% [markdown]
# ## One run
#
# `simulate` runs the whole week after the upload. The `seed` fixes the random draws: the same
# seed always gives the same result.

# %%
result = simulate(bees, seed=1)
s = result.summary
by_source = s["views_by_source"]

print(f"views: {s['views']:,}   shares: {s['shares']:,}   likes: {s['likes']:,}")
print(f"from the platform's push (For You): {by_source['for_you']:,} views = {s['algorithmic_share']:.2%}")
print(f"from the Following feed: {by_source['following']:,}   from shares: {by_source['share']:,}")
print(f"push stages reached: {s['stages_reached']} of {len(push.cohorts)}   why it stopped: {s['stop_reason']}")


# %% [markdown]
# ## The push, stage by stage
#
# Each row is one stage: how many people the platform picked (the cohort), how many it had
# delivered to when it decided, the KPIs of the views it had seen so far, and the threshold each
# KPI had to beat. Rates are in %.

# %%
def kpi_table(stages):
    """The stages table in a form that is easy to read: rates in %, one decision column."""
    kpis = [c.removeprefix("threshold_") for c in stages.columns
            if c.startswith("threshold_") and stages[c].notna().any()]
    table = pd.DataFrame({
        "stage": stages["stage"],
        "cohort": stages["cohort_size"],
        "delivered": stages["delivered"],
        "views judged": stages["views_evaluated"],
    })
    for k in kpis:
        table[f"{k} %"] = (100 * stages[k]).round(2)
        table[f"needs {k} %"] = (100 * stages[f"threshold_{k}"].astype(float)).round(2)
    table["decision"] = stages["passed"].map({True: "push on", False: "STOP"})
    return table.set_index("stage")


stages = result.stages_frame()
kpi_table(stages)

# %% [markdown]
# Read the completion column from top to bottom. The first cohort is made of the people who love
# animals most, so they watch to the end. Each new cohort reaches **further down the list** of
# animal lovers, to people who care less, so the KPIs fall. The push goes on as long as the
# video still pleases the next, wider audience.
#
# The funnel draws the same table: bar heights are cohort sizes (log scale), green stages passed,
# red stopped; below, each KPI against its threshold (dashed).

# %%
plot_funnel(stages)

# %% [markdown]
# ## Where and why did the push stop?
#
# Big cohorts are not sent all at once: the platform delivers them in batches
# (`platform.push.delivery_batch`) and keeps checking the KPIs of the views so far. It stops the
# push as soon as one of them misses its threshold, even in the middle of a stage.

# %%
last = stages.iloc[-1]
if last["passed"]:
    print(f"Every stage passed; the run ended because: {s['stop_reason']}")
else:
    kpi = last["failed"]
    print(f"The push stopped at stage {last['stage']}, a cohort of {last['cohort_size']:,} people.")
    print(f"Only {last['delivered']:,} of them had been sent the video when the platform checked:")
    print(f"its {kpi} rate was {last[kpi]:.2%}, below the threshold of {last['threshold_' + kpi]:.2%}.")
    print(f"The stop came {s['stop_h']:.0f} hours after the upload.")  # stop_h counts from the upload

# %% [markdown]
# ## Views over time
#
# The reach curve counts views over the week, by source. Vertical lines mark the push stages.
# The lower panel uses a log scale, so you can also see the first small cohorts.

# %%
plot_reach(result)

# %%
for n, key in [("10k", "time_to_10k_views_h"), ("100k", "time_to_100k_views_h")]:
    t = s[key]
    print(f"time to {n} views: " + ("never reached" if t is None else f"{t:.1f} hours after the upload"))

# %% [markdown]
# ## A strict platform: the push stops at the first gate
#
# `tiny.toml` is a small world (20 000 users) that runs in a blink. Its `strict` variant asks for
# much higher KPIs. Let's see what happens to the same video there.

# %%
tiny = load_scenario(SCENARIOS / "tiny.toml")
print("the strict variant changes:", tiny.variants["strict"])

normal = simulate(tiny, seed=1)
strict = simulate(tiny, seed=1, variant="strict")
print(f"normal thresholds: {normal.summary['views']:,} views, {normal.summary['stages_reached']} stages reached")
print(f"strict thresholds: {strict.summary['views']:,} views, {strict.summary['stages_reached']} stage reached")
kpi_table(strict.stages_frame())

# %%
plot_funnel(strict.stages_frame())

# %% [markdown]
# The first cohort did not reach the strict threshold, so the platform never showed the video to
# anyone else: the views left come from the first cohort and from the creator's followers.
#
# ## Try this
#
# Change one field without editing the file with `apply_variant`, then run the cells again:
#
# ```python
# from viralsim.scenario import apply_variant
# duller = apply_variant(bees, {"video": {"appeal": 0.8}})
# kpi_table(simulate(duller, seed=1).stages_frame())
# ```
#
# - Lower `video.appeal` (0.91 in the file): at which stage does the push stop now?
# - Change the seed, `simulate(bees, seed=2)`: does the push always stop at the same stage?
# - Make the platform ask for more likes: `{"platform": {"push": {"thresholds": {"completion": 0.15, "like": 0.1}}}}`.
# - Make people outside the topic enjoy the video more: raise `behaviour.interest_floor`.

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
# # 2. Content graph vs social graph
#
# A video can reach people in two ways:
#
# - the **social graph**: who you know. The creator's followers see it in their Following feed,
#   and people who like it *share* it with friends, who may share it again;
# - the **content graph**: what you watch. The platform shows the video to people whose interests
#   match its topic (the For You feed), whether or not they know the creator.
#
# The bees video got 721K views but only 26 shares. Which graph carried it? We run the same
# video in three worlds that differ only in how it can spread:
#
# | variant | For You push | Following feed | shares |
# |---|---|---|---|
# | `base` (hybrid) | yes | yes | yes |
# | `content` | yes | yes | no |
# | `social` | no | yes | yes |
#
# One run could be lucky or unlucky, so we run each world several times. Run *i* of every variant
# uses the same random draws (the same people, the same moods), so differences between variants
# come from the variant, not from luck: the runs are **paired**.

# %%
# %matplotlib inline
from pathlib import Path

import pandas as pd

from viralsim import load_scenario, simulate
from viralsim.ensemble import compare
from viralsim.plots import plot_reach_bands, plot_sources
from viralsim.scenario import apply_variant

HERE = Path.cwd()
SCENARIOS = next(p / "scenarios" for p in [HERE, *HERE.parents] if (p / "scenarios" / "bees_bike.toml").exists())

bees = load_scenario(SCENARIOS / "bees_bike.toml")
RUNS = 10  # try 50 or 100 for tighter intervals (it takes longer)

# %%
cmp = compare(bees, variants=["social", "content"], runs=RUNS, seed=1)
runs = cmp.runs  # one row per run: variant, run, views, shares, ...
print(f"{len(runs)} runs done ({RUNS} per variant)")


# %% [markdown]
# ## Side by side
#
# For each variant: the median over the runs, and in brackets the range that holds 90 % of the
# runs (from the 5 % to the 95 % quantile).

# %%
def median_and_range(table, metrics):
    """One cell per metric: 'median [5 % – 95 %]', each number written with the format given."""
    out = pd.DataFrame({"variant": table["variant"]})
    for m, f in metrics.items():
        out[m] = [f"{f.format(a)} [{f.format(b)} – {f.format(c)}]"
                  for a, b, c in zip(table[f"{m}_median"], table[f"{m}_q05"], table[f"{m}_q95"], strict=True)]
    return out.set_index("variant")


metrics = {"views": "{:,.0f}", "shares": "{:,.0f}", "share_to_view": "{:.4%}", "algorithmic_share": "{:.2%}",
           "stages_reached": "{:.0f}"}
median_and_range(cmp.table(list(metrics)), metrics)

# %% [markdown]
# Why is the lower end of the base range so far below the median? Look at the base runs one by
# one: which topic did the platform *recognise*, and how many push stages did the video reach?

# %%
base = runs[runs["variant"] == "base"]
wrong = base[base["recognised_topic"] != bees.video.topic]
print(f"in {len(wrong)} of {len(base)} runs the video was recognised as something other than "
      f"{bees.video.topic!r}: {', '.join(wrong['recognised_topic']) or 'none'}")
base[["run", "views", "recognised_topic", "stages_reached", "stop_reason"]].set_index("run")

# %% [markdown]
# A misrecognised video is shown to the wrong first cohort; they do not watch it to the end, and
# the push stops at once. (Recognition accuracy is `platform.recognition.accuracy` in the file.)
#
# And the **paired differences**: for each run, the variant's value minus the base's value on
# the same random draws; median and 90 % range.

# %%
median_and_range(cmp.differences(["views", "shares"]), {"views": "{:+,.0f}", "shares": "{:+,.0f}"})

# %% [markdown]
# ## "26 shares but 721K views"
#
# How many views could the shares have brought in? Each share goes to a few friends
# (`recipients_per_share`), and each of them opens it with some probability
# (`open_probability`). So each share brings in about `recipients × open probability` views,
# plus whatever those friends share in turn, which is rare.

# %%
sharing = bees.platform.sharing
views = base["views"].median()
shares = base["shares"].median()
per_share = sharing.recipients_per_share * sharing.open_probability

print(f"median views: {views:,.0f}, median shares: {shares:,.0f}")
print(f"share-to-view ratio: {shares / views:.4%} (the real video: 26 / 721,000 = {26 / 721_000:.4%})")
print(f"each share reaches about {sharing.recipients_per_share} x {sharing.open_probability} = {per_share:g} viewers")
print(f"so shares explain about {shares * per_share:,.0f} views; in the runs, views from shares were "
      f"{base['views_share'].median():,.0f} (median)")
print(f"the platform's For You push brought {base['views_for_you'].median():,.0f} views "
      f"= {(base['views_for_you'] / base['views']).median():.2%} of the total")

# %% [markdown]
# Without the push (`social`), the video only reaches the creator's followers, and a few of their
# friends. We can predict that number from the scenario: followers × the chance that a follower
# watches the video in the Following feed.

# %%
social = runs[runs["variant"] == "social"]
expected = bees.creator.followers * bees.platform.following.watch_probability
print(f"{bees.creator.followers} followers x {bees.platform.following.watch_probability} = {expected:.0f} "
      f"expected views; simulated median: {social['views'].median():,.0f}")
print(f"the push multiplied the reach by about {views / social['views'].median():,.0f}")

# %% [markdown]
# ## Reach over time
#
# Cumulative views: the line is the median run, the bands hold the middle 50 % and 90 % of the
# runs. The `social` curve is so low that you can see it only on the log scale (lower panel).
# `base` and `content` lie on top of each other: removing shares changes almost nothing (see the
# paired differences above).

# %%
plot_reach_bands(cmp.bands, upload_h=bees.video.upload_h)

# %% [markdown]
# ## Views by source
#
# Where did the views come from? The stack shows the mean cumulative views of each source; the
# lower panel shows views per hour. In the base world, For You dwarfs everything else.

# %%
plot_sources(cmp.bands, variant="base")

# %%
plot_sources(cmp.bands, variant="social")

# %% [markdown]
# ## What if the creator were famous?
#
# Without the push, reach depends on followers. Here is the `social` world again with more and
# more followers (one run each).

# %%
social_world = bees.variant("social")


def social_reach(followers):
    world = apply_variant(social_world, {"creator": {"followers": followers}})
    s = simulate(world, seed=1, record="summary").summary
    return {"followers": followers, "views": s["views"], "shares": s["shares"]}


pd.DataFrame([social_reach(f) for f in [180, 1_000, 10_000, 100_000, 1_000_000]]).set_index("followers")

# %% [markdown]
# With `ipywidgets` installed and a live Jupyter kernel, this slider reruns the `social` world for
# the number of followers you pick (without ipywidgets, the cell just says so).

# %%
try:
    import ipywidgets as widgets
except ImportError:
    widgets = None

if widgets is None:
    print("pip install ipywidgets for a live slider")
else:
    widgets.interact(lambda followers: print(social_reach(followers)),
                     followers=widgets.IntSlider(value=180, min=0, max=1_000_000, step=1_000, description="followers"))

# %% [markdown]
# ## Try this
#
# - With the slider (or `social_reach(...)`): how many followers does the creator need to
#   reach, without any push, the views the push gave a 180-follower account?
# - Make the video much more shareable: `apply_variant(bees, {"behaviour": {"p_share": 0.01}})`
#   and run `compare` again. Do shares start to matter?
# - Send each share to more friends: `platform.sharing.recipients_per_share`.
# - Raise `RUNS` to 50: do the intervals in the tables get narrower?

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
# # 5. A day on the platform
#
# Notebooks 1–4 follow **one video**. A real platform is a marketplace: many creators upload many
# videos, and they all compete for the same people's attention. Here every user is simulated as
# a person with a day:
#
# - they open the app a few times a day (more in the evening, in their own time zone);
# - in each session they scroll a feed, one video after another: the **For You** videos the
#   platform ranks for them (by the predicted chance that they like, comment, share and finish
#   each candidate, weighted by how much the platform values each action), and the new videos
#   of the creators they follow (the **Following** feed), plus what friends shared with them;
# - they watch, like, comment, share, follow — and stop when their attention is spent or when
#   they get bored.
#
# The question of this notebook: **what decides how many views a video gets — its creator's
# followers, or how good it is?** We run the same marketplace on three platforms that differ
# only in how videos can travel:
#
# | platform | For You push | Following feed | shares |
# |---|---|---|---|
# | `content` (the file's base) | yes | yes | no |
# | `social` | no | yes | yes |
# | `hybrid` | yes | yes | yes |
#
# The three runs share their random draws (the same people, creators and videos), so differences
# come from the platform, not from luck.

# %%
# %matplotlib inline
from pathlib import Path

from viralsim import load_scenario, simulate
from viralsim.analysis.day import busiest_user, user_day
from viralsim.analysis.marketplace import compare_modes, feed_narrowing, rank_correlations
from viralsim.plots import plot_feed_narrowing, plot_user_day, plot_views_ccdf, plot_views_vs
from viralsim.plots.marketplace import clock

HERE = Path.cwd()
SCENARIOS = next(p / "scenarios" for p in [HERE, *HERE.parents] if (p / "scenarios" / "creator_marketplace.toml").exists())

market = load_scenario(SCENARIOS / "creator_marketplace.toml")
MODES = {"content": None, "social": "social", "hybrid": "hybrid"}  # mode -> variant (the base is content)
m = market.marketplace
print(f"{market.population.users:,} users, {m.creators} creators, {m.videos(market.horizon_h):,} videos uploaded "
      f"over {market.horizon_h / 24:g} days, topics: {', '.join(market.population.topics)}")

# %%
runs = {mode: simulate(market, variant=variant) for mode, variant in MODES.items()}  # run 0 of the file's seed
for mode, run in runs.items():
    log = run.agents
    print(f"{mode:>8}: {len(log.sessions['user']):,} sessions, {int(log.videos['views'].sum()):,} views")

# %% [markdown]
# ## One user's day
#
# Let's follow one person through a day on the `hybrid` platform. `busiest_user` picks a user and
# a day that make a good example (views from several sources, some actions, not too many videos
# to draw); try any other user id with `user_day(run, user, day)`.

# %%
run = runs["hybrid"]
user, day_no = busiest_user(run)
day = user_day(run, user, day_no)
watched = day.sessions[day.sessions["views"] > 0]
print(f"user {user}, day {day_no} (time zone UTC{day.tz_h:+g}): {len(day.views)} videos in {len(watched)} sessions; "
      f"{len(day.sessions) - len(watched)} more times the app had nothing new for them")
for s in watched.itertuples():
    sources = ", ".join(f"{getattr(s, k)} {k.replace('_', ' ')}" for k in ("for_you", "following", "share")
                        if getattr(s, k))
    acts = ", ".join(f"{getattr(s, a)} {a}" for a in ("liked", "commented", "shared", "followed") if getattr(s, a))
    print(f"{clock(s.start_local_h)}  {s.views} video{'s' if s.views > 1 else ''} in {s.minutes:.1f} min "
          f"({sources}){'; ' + acts if acts else ''}; the session ended: {s.ended}")

# %% [markdown]
# The same day as a picture. Top: the 24 hours of the user's clock, a grey bar per session and a
# tick per video. Below: each session video by video, each bar as long as it was watched (faded
# when not finished), with the actions above it.

# %%
plot_user_day(day)

# %% [markdown]
# What did they watch? The first videos of the day, with each video's topic, creator and appeal
# (its latent quality, 0–1):

# %%
day.views[["local_h", "source", "topic", "creator", "appeal", "watch_s", "completed", "liked", "shared"]].head(12)

# %% [markdown]
# ## Who gets the views?
#
# Now the whole platform. How unequally are views spread over videos? The **Gini** coefficient
# is 0 when every video gets the same views and close to 1 when a few get nearly all of them.

# %%
table = compare_modes(runs)
table[["videos", "views", "gini", "top1_share", "top10_share", "unseen", "for_you_share", "following_share"]].round(3)

# %% [markdown]
# The complementary distribution (CCDF) shows the same on a log-log scale: for each number of
# views x, the share of videos that got at least x.

# %%
plot_views_ccdf(runs)

# %% [markdown]
# ## Followers or quality?
#
# For each video we know its creator's follower count and its appeal. Which one goes with more
# views? **Spearman's ρ** measures how well the *ranking* of one follows the ranking of the
# other: +1 when more of x always means more views, 0 when x tells nothing.

# %%
for mode in MODES:
    r = rank_correlations(runs[mode])
    better = "appeal" if r["appeal"].rho > r["followers"].rho else "followers"
    print(f"{mode:>8}: rho(views, appeal) = {r['appeal'].rho:+.2f}, rho(views, followers) = "
          f"{r['followers'].rho:+.2f} -> {better} predicts views better")

# %%
plot_views_vs(runs)

# %% [markdown]
# In the `content` platform, the For You feed shows each video to the people most likely to
# enjoy it, whoever made it, and keeps pushing it only while its KPIs hold up: good videos
# travel. In the `social` platform, a video reaches its creator's followers and the friends they
# share it with: reach is decided before anyone has watched.
#
# One run could be lucky: `scenarios/README.md` gives these correlations over many runs, and the
# "Try this" section below shows how to compute them yourself.
#
# ## Do feeds narrow?
#
# What you watch changes what you like (a little): each view strengthens the user's interest in
# the video's topic. The For You feed then ranks that topic higher, and so on. Does this loop make
# people's interests narrower? Entropy measures how spread out a user's interests are (lower:
# fewer topics); the favourite topic's share is the weight of their top interest.

# %%
for mode in MODES:
    f = feed_narrowing(runs[mode])
    print(f"{mode:>8}: mean entropy {f.entropy_start:.3f} -> {f.entropy_end:.3f}, favourite topic "
          f"{f.top_share_start:.1%} -> {f.top_share_end:.1%}; {f.narrowed:.0%} of users narrowed")
plot_feed_narrowing(runs)

# %% [markdown]
# ## Try this
#
# - Follow someone else: `user_day(runs["social"], user, day_no)` and `plot_user_day(...)`: how
#   does the same person's day look without the For You feed?
# - Give famous creators more weight in the feed: `agents.following_weight` (e.g. 2.0) with
#   `viralsim.scenario.apply_variant(market, {"agents": {"following_weight": 2.0}})`. Does
#   ρ(views, followers) rise in the `hybrid` platform?
# - More exploration (`agents.exploration`, e.g. 0.3): do niche videos get more views? What
#   happens to the Gini coefficient?
# - Turn up the loop (`agents.interest_drift`): do feeds narrow faster?
# - Is it luck? Run each platform 10 times, each run with its own random draws, and take the
#   median (about 2 s a run):
#
#   ```python
#   from viralsim.analysis.marketplace import runs_table
#   many = {mode: [simulate(market, variant=v, run=k) for k in range(10)] for mode, v in MODES.items()}
#   runs_table(many).groupby("mode")[["rho_appeal", "rho_followers", "gini"]].median()
#   ```

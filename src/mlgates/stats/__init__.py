"""Column profiles and distribution-drift statistics.

:mod:`mlgates.stats.profile` summarises columns once (reference) and again on
the reference's bins (current), with the summaries themselves in
:mod:`~mlgates.stats.summaries`; :mod:`mlgates.stats.drift` compares the two
summaries and decides whether a change is beyond both a threshold and the
sampling noise (:mod:`~mlgates.stats.noise`).
"""

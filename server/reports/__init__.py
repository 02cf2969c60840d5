"""Reports the offices run on a schedule (周调度, 月通报) and the 考评 of units and jurisdictions below.

Figures are counted by SQL over the case tables, for a period and a jurisdiction; what a
jurisdiction reports, how often and for whom, and how it assesses, is its rule set's
(`reports`, `assessment`), never code.
"""

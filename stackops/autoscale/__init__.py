"""Time- and load-based instances: the scaler.

`decide` is the pure decision of one round (facts in, starts and stops out);
`round` gathers the facts from the store and CloudWatch, decides, and hands
each start or stop to the paths `start-instance` and `stop-instance` use;
`records` keeps schedules, layer thresholds, what the scaler last did and
its history in the state table.
"""

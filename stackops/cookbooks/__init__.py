"""The built-in cookbook `stackops` (in ./stackops/) and the helpers its recipes share.

Recipes here are files, not modules: the engine loads `stackops/<recipe>.py` by path.
"""

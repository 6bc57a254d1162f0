"""The click commands: parse, call one function of the parts, render."""

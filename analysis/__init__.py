"""Plots and token-level analysis of RAST results; each module is a command line (python analysis/TOOL.py --help)."""

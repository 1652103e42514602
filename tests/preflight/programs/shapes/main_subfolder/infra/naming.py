"""A module of the program's own, imported from the program's directory as the language host allows."""

PREFIX = "subfolder"

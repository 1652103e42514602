"""A program with a bug: a KeyError deep in its own code."""

settings = {"region": "eu-west-1"}


def port() -> int:
    return settings["port"]


port()

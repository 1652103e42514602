"""Visit counter: a small Flask app that counts visits in DynamoDB (or in process for local runs)."""

from visits.factory import create_app

__all__ = ["create_app"]

"""Gavel's keeper: watches every account's health, kicks auctions and bids in them.

`python -m bots.keeper` runs it (docs/keeper.md); the protocol it runs against is in contracts/
and deploys with `ape run deploy`.
"""

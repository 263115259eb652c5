"""Gavel's keeper: watches every account's health, kicks auctions and bids in them.

The keeper itself is the next piece of work (issue 3); the protocol it runs against is in
contracts/ and deploys with `ape run deploy`.
"""

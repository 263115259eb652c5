"""Mainnet addresses the fork tests use (the same as markets/ethereum-mainnet.toml), and units."""

ETH, USDC = 10**18, 10**6  # [wei], [USDC base units]
WETH_ADDRESS = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
USDC_ADDRESS = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"  # a proxy (FiatTokenV2_1 behind it)
ETH_USD_FEED = "0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419"  # Chainlink ETH / USD (EACAggregatorProxy)
USDC_USD_FEED = "0x8fFfFfd4AfB6115b954Bd326cbe7B4BA576818f6"  # Chainlink USDC / USD
ROUTER02 = "0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D"
USDC_WETH_PAIR = "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"

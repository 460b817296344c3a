"""Trade oats on Hydra's simulated gateway with plain ib_async, no IB account needed.

python -m hydra sim-gateway --port 4002 --market oats     # in one terminal
python examples/ib_async_quickstart.py                    # in another
"""

from ib_async import IB, Future, LimitOrder

ib = IB()
ib.connect("127.0.0.1", 4002, clientId=1)
oats = Future("ZO", exchange="CBOT")  # the front month; add lastTradeDateOrContractMonth to pin
ib.qualifyContracts(oats)
ticker = ib.reqMktData(oats)
ib.sleep(1)
print(f"{oats.localSymbol}: bid {ticker.bid} ask {ticker.ask}")
trade = ib.placeOrder(oats, LimitOrder("BUY", 1, ticker.ask))
while not trade.isDone():
    ib.waitOnUpdate()
fills = [(f.execution.price, f.commissionReport.commission) for f in trade.fills]
print(trade.orderStatus.status, fills)
print(ib.positions())
ib.disconnect()

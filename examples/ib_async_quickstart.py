"""Trade oats on Hydra's simulated gateway with plain ib_async, no IB account needed.

python -m hydra sim-gateway --port 4002 --market oats     # in one terminal
python examples/ib_async_quickstart.py [PORT]             # in another (default port 4002)
"""

import sys

from ib_async import IB, ContFuture, Future, LimitOrder

ib = IB()
ib.connect("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 4002, clientId=1)
front = ContFuture("ZO", "CBOT")  # the front month; Future("ZO", "202707", "CBOT") pins one
ib.qualifyContracts(front)
oats = Future(conId=front.conId, exchange="CBOT")
ib.qualifyContracts(oats)
ticker = ib.reqMktData(oats)
ib.sleep(1)
print(f"{oats.localSymbol}: bid {ticker.bid} ask {ticker.ask}")
trade = ib.placeOrder(oats, LimitOrder("BUY", 1, ticker.ask))
while not trade.isDone():
    ib.waitOnUpdate()
fills = [(f.execution.price, f.commissionReport.commission) for f in trade.fills]
print(trade.orderStatus.status, fills)
# The position message comes after the fill's, as at IB: wait for it.
while not any(p.contract.conId == oats.conId for p in ib.positions()):
    ib.waitOnUpdate()
print(ib.positions())
ib.disconnect()

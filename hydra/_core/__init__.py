"""Hydra's pure core: plain synchronous functions and state machines, no I/O and no Trio.

Actors are thin loops that feed these messages and act on the answers (Hypercorn's sans-I/O
protocol classes under thin Trio shells). Nothing here imports trio, asyncio, sqlite3, socket
or ib_async, or touches a file; a test checks that in a fresh interpreter.

Layers, lowest first (each imports only from those before it, and from hydra's vocabulary and
domain values):
  _instants                                        seconds ahead of an instant, capped
  _positions, _pacing, _backoff, _routing         accounting, pacing, schedules, routing
  _sessions                                        a contract's session calendar (IB's hours)
  _twap                                            TWAP slicing, inside the sessions too
  _market_stats, _front_month                      ADV and volatility from daily bars; the front
                                                   month by roll days
  _pricing, _slippage                              prices on the tick grid; the slippage model
  _model_versions                                  the slippage model's versions and predictions
  _crowd                                           the crowd's quote, our own order taken out
  _ladder                                          the patience ladder's prices and waits
  _quote_check                                     whether a broker's quote can be priced from
  _risk_checks                                     pre-trade checks and circuit breakers
  _risk_state                                      what the risk book remembers across restarts
  _risk_messages                                   the risk book's inputs, answers and effects
  _risk_book                                       the risk book: orders, exposure, states
  _witness                                         the broker's orders judged against the journal
"""

"""How the offline classifier is built: its training examples, their generator and the fitting code.

None of this ships in the ``ticketpilot`` package: the service ships the built model
(``ticketpilot/gate/offline/offline-model.npz``) and its evaluation. Rebuild with ``make model``.
"""

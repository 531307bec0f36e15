"""Python client for the Propensity scoring server (protocol v1, docs/protocol.md).

    from propensity_client import Client

    with Client("127.0.0.1", 7878, token=None) as client:
        info = client.model_info("conversion")
        probabilities = client.score("conversion", [{"sessions_30d": 3, "device": "mobile"}, ...])

The core is the standard library only. `propensity_client.dataframe` (the `pandas` extra) scores a pandas
DataFrame and returns a Series.
"""
from ._client import Client, Explanation, Feature, ModelInfo, ProtocolError, Row, ServerError, Value

__all__ = ["Client", "ModelInfo", "Feature", "Explanation", "ServerError", "ProtocolError", "Row", "Value"]
__version__ = "0.1.0"

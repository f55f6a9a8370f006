"""Bot API requests with a JSON body.

python-telegram-bot's ``HTTPXRequest`` sends every call as an URL-encoded form: each value JSON-encoded and then
percent-quoted, the busiest function of a reply's sending in a profile (bench/limits.py). The Bot API reads JSON
bodies as well, so calls without files go out as ``application/json`` (python-telegram-bot's own ``json_payload``);
uploads keep the multipart form. Timeouts and errors are python-telegram-bot's.
"""

from __future__ import annotations

import httpx
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

JSON = "application/json"


class JsonRequest(HTTPXRequest):
    """``HTTPXRequest`` that sends a call without files as a JSON body."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if request_data is None or request_data.contains_files:
            return await super().do_request(
                url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
            )
        given = self._client.timeout
        timeout = httpx.Timeout(
            connect=_pick(connect_timeout, given.connect),
            read=_pick(read_timeout, given.read),
            write=_pick(write_timeout, given.write),
            pool=_pick(pool_timeout, given.pool),
        )
        headers = {"User-Agent": self.USER_AGENT, "Content-Type": JSON}
        try:
            response = await self._client.request(
                method=method, url=url, headers=headers, timeout=timeout, content=request_data.json_payload
            )
        except httpx.TimeoutException as err:
            if isinstance(err, httpx.PoolTimeout):
                raise TimedOut("Pool timeout: all connections to the Bot API are busy; not sent") from err
            raise TimedOut from err
        except httpx.HTTPError as err:
            raise NetworkError(f"httpx.{err.__class__.__name__}: {err}") from err
        return response.status_code, response.content


def _pick(value: ODVInput[float], default: float | None) -> float | None:
    """The timeout a call gave, or the client's own when it gave none."""
    return default if isinstance(value, DefaultValue) else value

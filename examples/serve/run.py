#!/usr/bin/env python3
"""Runs a worker on an islet server from Python, standard library only.

    npx islet serve &          # in another terminal
    python3 examples/serve/run.py

ISLET_URL (default http://127.0.0.1:8787) and ISLET_API_KEY (when the server has keys) are read
from the environment.
"""
import json
import os
import urllib.error
import urllib.request

URL = os.environ.get("ISLET_URL", "http://127.0.0.1:8787")
API_KEY = os.environ.get("ISLET_API_KEY")

WORKER = """
export default {
  async fetch(request, env) {
    const { numbers } = await request.json();
    const total = numbers.reduce((a, b) => a + b, 0);
    console.log("summing", numbers.length, "numbers");
    return Response.json({ total, unit: env.UNIT });
  },
};
"""


def run(body):
    headers = {"content-type": "application/json"}
    if API_KEY:
        headers["authorization"] = "Bearer " + API_KEY
    request = urllib.request.Request(URL + "/v1/run", data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        # 400 (a field is wrong), 401 (key), 413 (too big), 429 (busy: retry after Retry-After).
        raise SystemExit(f"islet refused the request ({error.code}): {json.load(error)['error']['message']}")


answer = run({
    "code": WORKER,
    "request": {"url": "https://sum.example/", "method": "POST", "body": json.dumps({"numbers": [1, 2, 3, 4]})},
    "env": {"UNIT": "apples"},
})
if "error" in answer:
    raise SystemExit(f"the worker failed: {answer['error']['name']}: {answer['error']['message']}")
print("status:", answer["response"]["status"])
print("body:", json.loads(answer["response"]["body"]))
print("logs:", [" ".join(map(str, log["message"])) for log in answer["logs"]])
print(f"cpu: {answer['cpuMs']} ms, wall: {answer['wallMs']} ms")

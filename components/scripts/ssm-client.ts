/**
 * The program a cattle node reads its join token with: SSM GetParameter (SecureString, decrypted) signed with
 * SigV4 using the instance role's credentials from IMDSv2. Ubuntu images have python3 but no aws CLI, so it is a
 * small python3 standard-library program (Python 3.5+: no f-strings). It prints the value on stdout and nothing
 * else; its errors never include the value.
 *
 * Environment overrides, for tests that point it at local fakes: KUBEHERD_IMDS_ENDPOINT (default
 * http://169.254.169.254), KUBEHERD_SSM_ENDPOINT (default https://ssm.<region>.amazonaws.com),
 * KUBEHERD_SSM_ATTEMPTS (default 10; credentials and the parameter may take a moment after boot).
 */
export const SSM_CLIENT_PY = String.raw`# kubeherd: print one SSM parameter's decrypted value. Usage: python3 -c "$program" REGION NAME
import datetime, hashlib, hmac, json, os, sys, time
import urllib.error, urllib.parse, urllib.request


def _hmac(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def authorization(method, url, headers, body, access_key, secret_key, region, service, amz_date):
    # SigV4: every header given is signed; host and x-amz-date must be among them.
    parts = urllib.parse.urlsplit(url)
    quote = lambda text: urllib.parse.quote(text, safe="-_.~")
    query = sorted((quote(k), quote(v)) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    canonical = sorted((k.lower(), " ".join(str(v).split())) for k, v in headers.items())
    signed = ";".join(k for k, _ in canonical)
    request = "\n".join([method, parts.path or "/", "&".join(k + "=" + v for k, v in query),
                         "".join(k + ":" + v + "\n" for k, v in canonical), signed, hashlib.sha256(body).hexdigest()])
    scope = "/".join([amz_date[:8], region, service, "aws4_request"])
    key = ("AWS4" + secret_key).encode()
    for part in scope.split("/"):
        key = _hmac(key, part)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(request.encode()).hexdigest()])
    return "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}".format(
        access_key, scope, signed, hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest())


def _fetch(url, method="GET", headers=None, data=None):
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def get_parameter(region, name):
    imds = (os.environ.get("KUBEHERD_IMDS_ENDPOINT") or "http://169.254.169.254").rstrip("/")
    ssm = (os.environ.get("KUBEHERD_SSM_ENDPOINT") or "https://ssm.{}.amazonaws.com".format(region)).rstrip("/")
    # IMDSv2: a session token first, then the instance role's temporary credentials.
    token = _fetch(imds + "/latest/api/token", "PUT", {"X-aws-ec2-metadata-token-ttl-seconds": "300"}, b"")
    meta = {"X-aws-ec2-metadata-token": token}
    roles = imds + "/latest/meta-data/iam/security-credentials/"
    role = (_fetch(roles, headers=meta).split() or [""])[0]
    if not role:
        raise RuntimeError("the instance has no IAM role")
    creds = json.loads(_fetch(roles + urllib.parse.quote(role), headers=meta))
    body = json.dumps({"Name": name, "WithDecryption": True}).encode()
    amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    headers = {"Content-Type": "application/x-amz-json-1.1", "Host": urllib.parse.urlsplit(ssm).netloc,
               "X-Amz-Date": amz_date, "X-Amz-Target": "AmazonSSM.GetParameter"}
    if creds.get("Token"):
        headers["X-Amz-Security-Token"] = creds["Token"]
    headers["Authorization"] = authorization("POST", ssm + "/", headers, body, creds["AccessKeyId"],
                                             creds["SecretAccessKey"], region, "ssm", amz_date)
    return json.loads(_fetch(ssm + "/", "POST", headers, body))["Parameter"]["Value"]


def _describe(error):
    # What went wrong; an error never carries the value.
    if isinstance(error, urllib.error.HTTPError):
        try:
            detail = json.loads(error.read().decode())
        except ValueError:
            detail = {}
        return "HTTP {} {} {}".format(error.code, detail.get("__type", ""), detail.get("message", ""))
    return "{}: {}".format(type(error).__name__, error)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: REGION NAME\n")
        return 2
    attempts = int(os.environ.get("KUBEHERD_SSM_ATTEMPTS") or "10")
    for attempt in range(1, attempts + 1):
        try:
            sys.stdout.write(get_parameter(argv[1], argv[2]))
            return 0
        except (OSError, ValueError, KeyError, RuntimeError) as error:
            sys.stderr.write("kubeherd: reading SSM parameter {} failed ({}/{}): {}\n".format(
                argv[2], attempt, attempts, _describe(error)))
        if attempt < attempts:
            time.sleep(min(2 ** attempt, 30))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
`;

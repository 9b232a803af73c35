/**
 * A self-signed certificate for 127.0.0.1 (EC P-256, valid until 2126) and its key, made once with
 * `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500
 * -subj /CN=fake-kube-api.test -addext subjectAltName=IP:127.0.0.1`: the fake API server's TLS in tests
 * (src/testing/fake-kube-api.ts). It guards nothing.
 */
export const TEST_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBojCCAUigAwIBAgIUZLWB4GgmiXRP3ZL278ueLv7NFh4wCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSZmFrZS1rdWJlLWFwaS50ZXN0MCAXDTI2MTIwMTE0MTEyMFoY
DzIxMjYxMTA3MTQxMTIwWjAdMRswGQYDVQQDDBJmYWtlLWt1YmUtYXBpLnRlc3Qw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQ5Lehat0ADvMACsWAfqnznHY9/MKa+
FPiTGLez+Yz0sHhyKL9I5MCYBGWiWb90fVtmmUnga9NLAT+cVe5OxL3To2QwYjAd
BgNVHQ4EFgQU/U/bRDgucvs6TbWJ+YMjS2y2Ox4wHwYDVR0jBBgwFoAU/U/bRDgu
cvs6TbWJ+YMjS2y2Ox4wDwYDVR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAAB
MAoGCCqGSM49BAMCA0gAMEUCIQDKaXB3vOzhdm2UD3EuJqrx8RIeHKDSZ6JzyOXX
Ppqw4gIgBdybFkwcBaNszhK5t1TOP05CPb7rJI8DWKvvCS5StGw=
-----END CERTIFICATE-----
`;

export const TEST_TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQggF+8z4HdvgFTqPgc
BKhpm8hfxdvEK8Bz1d3ccKM3HPahRANCAAQ5Lehat0ADvMACsWAfqnznHY9/MKa+
FPiTGLez+Yz0sHhyKL9I5MCYBGWiWb90fVtmmUnga9NLAT+cVe5OxL3T
-----END PRIVATE KEY-----
`;

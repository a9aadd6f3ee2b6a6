// The OpenID Connect provider the single sign-on tests run against (tests/test_sso.py):
// panva's certified oidc-provider with its development sign-in and consent forms (any
// password; the login is the account id). Started by the tests, on loopback only:
//
//   node tests/oidc/provider.mjs CONFIG.json
//
// CONFIG: {"port", "issuer", "client": {client_id, client_secret, redirect_uris},
//          "accounts": {"<account id = sub>": {"claims": {...}, "tamper": "aud" | ...}}}
//
// "tamper" makes the token endpoint hand back an ID token that a misbehaving provider or an
// attacker could: re-signed with the provider's own key (or, for "key", with a key it does not
// publish) after changing one claim. The application's production code must refuse each.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK } from 'jose';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { accounts } = config;

async function signingKey(kid) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

const publishedKey = await signingKey('test-key-1');
const unpublishedKey = await signingKey('test-key-1'); // same kid, different key: a forged signature

const TAMPER = {
  aud: (claims) => ({ ...claims, aud: 'another-service' }),
  expired: (claims) => ({ ...claims, iat: claims.iat - 7200, exp: claims.iat - 3600 }),
  nonce: (claims) => ({ ...claims, nonce: 'not-the-nonce-that-was-sent' }),
  iss: (claims) => ({ ...claims, iss: 'https://impostor.example' }),
  key: (claims) => claims,
};

async function tamperedIdToken(idToken) {
  const claims = decodeJwt(idToken);
  const how = accounts[claims.sub]?.tamper;
  if (!how) return idToken;
  const header = decodeProtectedHeader(idToken);
  const key = await importJWK(how === 'key' ? unpublishedKey : publishedKey, 'RS256');
  return new SignJWT(TAMPER[how](claims)).setProtectedHeader(header).sign(key);
}

const provider = new Provider(config.issuer, {
  clients: [{
    ...config.client,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [publishedKey] },
  pkce: { required: () => true }, // S256 only (the default methods)
  conformIdTokenClaims: false, // scope claims (email, profile) in the ID token, as HMPPS Auth and Entra ID do
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'oid', 'preferred_username'],
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['test-only-cookie-signing-key-0123456789'] },
  async findAccount(ctx, id) {
    if (!accounts[id]) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...accounts[id].claims }; } };
  },
});

provider.use(async (ctx, next) => {
  await next();
  if (ctx.method === 'POST' && ctx.path === '/token' && ctx.status === 200 && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: await tamperedIdToken(ctx.body.id_token) };
  }
});

provider.listen(config.port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${config.issuer}`);
});

/*
 * Runs every case of the docs/specs/vectors JSON files through the C API of liboap
 * and checks the results, with the same semantics as oap-core/tests/vectors.rs:
 *
 *  - decoding yields the listed frames, in order, then the listed error;
 *    "truncated" is what oap_decoder_finish reports when input ends inside a
 *    frame; a DATA frame whose payload fails oap_data_unpack is the error
 *    (bad_data_header / bad_object_id) at that point;
 *  - each case is decoded three ways: pushed whole, one byte at a time, and
 *    in pseudo-random chunks; the decoder never buffers more than
 *    max_frame + 6 bytes;
 *  - every frame's ver, typ, payload bytes; control frames' "json" compared
 *    as parsed JSON; DATA header JSON, typed fields and body via
 *    oap_data_unpack; whole objects verified against obj (one-shot and with
 *    the streaming hasher), and a tampered body must fail;
 *  - error-free inputs are re-encoded with oap_encode_frame (size query
 *    first), oap_encode_header and oap_data_pack and must match byte for byte.
 *
 * Then a few API checks (NULL handling, status names, buffer sizes).
 *
 * Usage: vectors <dir with *.json>. Exit status 0 only if every check passed.
 * The tiny JSON reader below handles exactly RFC 8259 JSON (no comments).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oap.h"

static int failures = 0;
static long checks = 0;
static const char *current_case = "";

#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    checks++;                                                              \
    if (!(cond)) {                                                         \
      failures++;                                                          \
      fprintf(stderr, "FAIL %s (%s:%d): ", current_case, __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                                        \
      fputc('\n', stderr);                                                 \
    }                                                                      \
  } while (0)

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    perror("malloc");
    exit(2);
  }
  return p;
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) {
    perror("realloc");
    exit(2);
  }
  return p;
}

/* ------------------------------------------------------------------ JSON */

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct json {
  jtype t;
  int b;              /* J_BOOL */
  double num;         /* J_NUM */
  char *s;            /* J_STR (NUL-terminated, may contain NULs), J_NUM text */
  size_t len;         /* J_STR byte length */
  size_t n;           /* J_ARR / J_OBJ element count */
  char **keys;        /* J_OBJ */
  size_t *key_lens;   /* J_OBJ */
  struct json **vals; /* J_ARR / J_OBJ */
} json;

typedef struct {
  const char *p, *end;
  int depth;
} jparser;

static void json_free(json *j) {
  if (!j) return;
  free(j->s);
  for (size_t i = 0; i < j->n; i++) {
    if (j->keys) free(j->keys[i]);
    json_free(j->vals[i]);
  }
  free(j->keys);
  free(j->key_lens);
  free(j->vals);
  free(j);
}

static void skip_ws(jparser *ps) {
  while (ps->p < ps->end &&
         (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int parse_u4(jparser *ps, unsigned *out) {
  if (ps->end - ps->p < 4) return 0;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval((unsigned char)ps->p[i]);
    if (h < 0) return 0;
    v = v * 16 + (unsigned)h;
  }
  ps->p += 4;
  *out = v;
  return 1;
}

/* Parses a string literal (ps->p at the opening quote) into UTF-8. */
static int parse_string(jparser *ps, char **out, size_t *out_len) {
  ps->p++; /* opening quote */
  size_t cap = 16, len = 0;
  char *buf = xmalloc(cap);
  for (;;) {
    if (ps->p >= ps->end) goto fail;
    unsigned char c = (unsigned char)*ps->p++;
    if (c == '"') break;
    if (c < 0x20) goto fail;
    unsigned cp;
    if (c != '\\') {
      if (len + 1 >= cap) buf = xrealloc(buf, cap *= 2);
      buf[len++] = (char)c;
      continue;
    }
    if (ps->p >= ps->end) goto fail;
    c = (unsigned char)*ps->p++;
    switch (c) {
      case '"': cp = '"'; break;
      case '\\': cp = '\\'; break;
      case '/': cp = '/'; break;
      case 'b': cp = '\b'; break;
      case 'f': cp = '\f'; break;
      case 'n': cp = '\n'; break;
      case 'r': cp = '\r'; break;
      case 't': cp = '\t'; break;
      case 'u':
        if (!parse_u4(ps, &cp)) goto fail;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          unsigned lo;
          if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') goto fail;
          ps->p += 2;
          if (!parse_u4(ps, &lo) || lo < 0xDC00 || lo > 0xDFFF) goto fail;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          goto fail;
        }
        break;
      default: goto fail;
    }
    if (len + 5 >= cap) buf = xrealloc(buf, cap *= 2);
    if (cp < 0x80) {
      buf[len++] = (char)cp;
    } else if (cp < 0x800) {
      buf[len++] = (char)(0xC0 | (cp >> 6));
      buf[len++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      buf[len++] = (char)(0xE0 | (cp >> 12));
      buf[len++] = (char)(0x80 | ((cp >> 6) & 0x3F));
      buf[len++] = (char)(0x80 | (cp & 0x3F));
    } else {
      buf[len++] = (char)(0xF0 | (cp >> 18));
      buf[len++] = (char)(0x80 | ((cp >> 12) & 0x3F));
      buf[len++] = (char)(0x80 | ((cp >> 6) & 0x3F));
      buf[len++] = (char)(0x80 | (cp & 0x3F));
    }
  }
  buf[len] = 0;
  *out = buf;
  *out_len = len;
  return 1;
fail:
  free(buf);
  return 0;
}

static json *new_json(jtype t) {
  json *j = xmalloc(sizeof *j);
  memset(j, 0, sizeof *j);
  j->t = t;
  return j;
}

static json *parse_value(jparser *ps);

static int push_child(json *j, char *key, size_t key_len, json *v) {
  j->vals = xrealloc(j->vals, (j->n + 1) * sizeof *j->vals);
  if (j->t == J_OBJ) {
    j->keys = xrealloc(j->keys, (j->n + 1) * sizeof *j->keys);
    j->key_lens = xrealloc(j->key_lens, (j->n + 1) * sizeof *j->key_lens);
    j->keys[j->n] = key;
    j->key_lens[j->n] = key_len;
  }
  j->vals[j->n++] = v;
  return 1;
}

static json *parse_container(jparser *ps, jtype t) {
  char close = t == J_ARR ? ']' : '}';
  json *j = new_json(t);
  ps->p++;
  if (++ps->depth > 64) goto fail;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == close) {
    ps->p++;
    ps->depth--;
    return j;
  }
  for (;;) {
    char *key = NULL;
    size_t key_len = 0;
    skip_ws(ps);
    if (t == J_OBJ) {
      if (ps->p >= ps->end || *ps->p != '"' || !parse_string(ps, &key, &key_len)) goto fail;
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') {
        free(key);
        goto fail;
      }
      ps->p++;
    }
    json *v = parse_value(ps);
    if (!v) {
      free(key);
      goto fail;
    }
    push_child(j, key, key_len, v);
    skip_ws(ps);
    if (ps->p >= ps->end) goto fail;
    if (*ps->p == ',') {
      ps->p++;
      continue;
    }
    if (*ps->p == close) {
      ps->p++;
      ps->depth--;
      return j;
    }
    goto fail;
  }
fail:
  json_free(j);
  return NULL;
}

static json *parse_value(jparser *ps) {
  skip_ws(ps);
  if (ps->p >= ps->end) return NULL;
  char c = *ps->p;
  if (c == '{') return parse_container(ps, J_OBJ);
  if (c == '[') return parse_container(ps, J_ARR);
  if (c == '"') {
    json *j = new_json(J_STR);
    if (!parse_string(ps, &j->s, &j->len)) {
      json_free(j);
      return NULL;
    }
    return j;
  }
  static const struct {
    const char *lit;
    jtype t;
    int b;
  } lits[] = {{"null", J_NULL, 0}, {"true", J_BOOL, 1}, {"false", J_BOOL, 0}};
  for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
    size_t n = strlen(lits[i].lit);
    if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, lits[i].lit, n) == 0) {
      ps->p += n;
      json *j = new_json(lits[i].t);
      j->b = lits[i].b;
      return j;
    }
  }
  /* number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
  const char *s = ps->p;
  if (ps->p < ps->end && *ps->p == '-') ps->p++;
  if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return NULL;
  if (*ps->p == '0') {
    ps->p++;
  } else {
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  }
  if (ps->p < ps->end && *ps->p == '.') {
    ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return NULL;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
    ps->p++;
    if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return NULL;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  }
  json *j = new_json(J_NUM);
  size_t n = (size_t)(ps->p - s);
  j->s = xmalloc(n + 1);
  memcpy(j->s, s, n);
  j->s[n] = 0;
  j->num = strtod(j->s, NULL);
  return j;
}

/* Parses a whole document; NULL if it is not exactly one JSON value. */
static json *json_parse(const char *text, size_t len) {
  jparser ps = {text, text + len, 0};
  json *j = parse_value(&ps);
  if (!j) return NULL;
  skip_ws(&ps);
  if (ps.p != ps.end) {
    json_free(j);
    return NULL;
  }
  return j;
}

static json *jget(const json *obj, const char *key) {
  if (!obj || obj->t != J_OBJ) return NULL;
  size_t kl = strlen(key);
  for (size_t i = 0; i < obj->n; i++)
    if (obj->key_lens[i] == kl && memcmp(obj->keys[i], key, kl) == 0) return obj->vals[i];
  return NULL;
}

/* Structural equality; object key order does not matter (keys are unique). */
static int json_equal(const json *a, const json *b) {
  if (!a || !b || a->t != b->t) return 0;
  switch (a->t) {
    case J_NULL: return 1;
    case J_BOOL: return a->b == b->b;
    case J_NUM: return a->num == b->num;
    case J_STR: return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    case J_ARR:
      if (a->n != b->n) return 0;
      for (size_t i = 0; i < a->n; i++)
        if (!json_equal(a->vals[i], b->vals[i])) return 0;
      return 1;
    case J_OBJ:
      if (a->n != b->n) return 0;
      for (size_t i = 0; i < a->n; i++) {
        const json *bv = NULL;
        for (size_t k = 0; k < b->n; k++)
          if (b->key_lens[k] == a->key_lens[i] &&
              memcmp(b->keys[k], a->keys[i], a->key_lens[i]) == 0)
            bv = b->vals[k];
        if (!json_equal(a->vals[i], bv)) return 0;
      }
      return 1;
  }
  return 0;
}

/* ---------------------------------------------------------------- helpers */

typedef struct {
  unsigned char *p;
  size_t len;
} bytes;

static int unhex(const char *hex, size_t n, bytes *out) {
  if (n % 2) return 0;
  out->len = n / 2;
  out->p = xmalloc(out->len);
  for (size_t i = 0; i < out->len; i++) {
    int hi = hexval((unsigned char)hex[2 * i]), lo = hexval((unsigned char)hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      free(out->p);
      return 0;
    }
    out->p[i] = (unsigned char)(hi * 16 + lo);
  }
  return 1;
}

static bytes jhex(const json *j) {
  bytes b = {NULL, 0};
  if (!j || j->t != J_STR || !unhex(j->s, j->len, &b)) {
    fprintf(stderr, "vector file: bad hex field\n");
    exit(2);
  }
  return b;
}

static int bytes_eq(const unsigned char *a, size_t alen, const bytes *b) {
  return alen == b->len && (alen == 0 || memcmp(a, b->p, alen) == 0);
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(2);
  }
  size_t cap = 4096, n = 0, r;
  char *buf = xmalloc(cap);
  while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
    n += r;
    if (n == cap) buf = xrealloc(buf, cap *= 2);
  }
  fclose(f);
  *len = n;
  return buf;
}

/* -------------------------------------------------------------- decoding */

typedef struct {
  uint8_t ver, typ;
  bytes payload;
} dframe;

typedef struct {
  dframe *frames;
  size_t n;
  char error[32]; /* vector error name, or "" for none */
} outcome;

static void outcome_free(outcome *o) {
  for (size_t i = 0; i < o->n; i++) free(o->frames[i].payload.p);
  free(o->frames);
  memset(o, 0, sizeof *o);
}

/* Drains the decoder. Returns 0 to go on, 1 once an error ended decoding. */
static int drain(OapDecoder *dec, outcome *o) {
  for (;;) {
    OapFrame f;
    OapStatus st = oap_decoder_next(dec, &f);
    if (st == OAP_STATUS_NEED_MORE) return 0;
    if (st != OAP_STATUS_OK) {
      snprintf(o->error, sizeof o->error, "%s", oap_status_name(st));
      return 1;
    }
    /* The reference semantics: a DATA frame that does not unpack is the
       error at this point, and the frames before it are the result. */
    if (f.typ == OAP_FRAME_TYPE_DATA) {
      OapDataView v;
      OapStatus ds = oap_data_unpack(f.payload, f.payload_len, &v);
      if (ds != OAP_STATUS_OK) {
        snprintf(o->error, sizeof o->error, "%s", oap_status_name(ds));
        return 1;
      }
    }
    o->frames = xrealloc(o->frames, (o->n + 1) * sizeof *o->frames);
    dframe *d = &o->frames[o->n++];
    d->ver = f.ver;
    d->typ = f.typ;
    d->payload.len = f.payload_len;
    d->payload.p = xmalloc(f.payload_len);
    if (f.payload_len) memcpy(d->payload.p, f.payload, f.payload_len);
  }
}

/* Decodes `in` pushed in chunks: chunk == 0 means whole, otherwise chunk
   sizes come from a small LCG in [1, chunk] (chunk == 1: byte by byte). */
static outcome decode(const bytes *in, uint32_t max_frame, size_t chunk, unsigned seed) {
  outcome o;
  memset(&o, 0, sizeof o);
  OapDecoder *dec = NULL;
  OapStatus st = oap_decoder_new(max_frame, &dec);
  CHECK(st == OAP_STATUS_OK && dec, "oap_decoder_new: %s", oap_status_name(st));
  if (!dec) return o;
  size_t pos = 0;
  unsigned lcg = seed;
  int done = 0;
  while (pos < in->len && !done) {
    size_t n = in->len - pos;
    if (chunk) {
      lcg = lcg * 1103515245u + 12345u;
      size_t want = 1 + (lcg >> 16) % chunk;
      if (want < n) n = want;
    }
    st = oap_decoder_push(dec, in->p + pos, n);
    CHECK(st == OAP_STATUS_OK, "push at %zu: %s", pos, oap_status_name(st));
    pos += n;
    size_t buffered = 0;
    CHECK(oap_decoder_buffered(dec, &buffered) == OAP_STATUS_OK, "buffered");
    CHECK(buffered <= (size_t)max_frame + 6, "buffered %zu > max_frame + 6", buffered);
    done = drain(dec, &o);
  }
  if (!done) {
    st = oap_decoder_finish(dec);
    if (st != OAP_STATUS_OK) {
      snprintf(o.error, sizeof o.error, "%s", oap_status_name(st));
    } else {
      /* finish on a frame boundary leaves nothing queued */
      OapFrame f;
      CHECK(oap_decoder_next(dec, &f) == OAP_STATUS_NEED_MORE, "frame after finish");
    }
  } else {
    /* errors are permanent */
    OapFrame f;
    char again[32];
    snprintf(again, sizeof again, "%s", oap_status_name(oap_decoder_next(dec, &f)));
    int data_err = strcmp(o.error, "bad_data_header") == 0 || strcmp(o.error, "bad_object_id") == 0;
    if (!data_err) CHECK(strcmp(again, o.error) == 0, "error not latched: %s then %s", o.error, again);
  }
  oap_decoder_free(dec);
  return o;
}

/* -------------------------------------------------------------- checking */

static int seen_types[7];
static int seen_errors[6];
static const char *error_names[6] = {"bad_version", "unknown_type", "too_large",
                                     "truncated", "bad_data_header", "bad_object_id"};

static void check_data(const dframe *got, const json *data) {
  OapDataView v;
  OapStatus st = oap_data_unpack(got->payload.p, got->payload.len, &v);
  CHECK(st == OAP_STATUS_OK, "oap_data_unpack: %s", oap_status_name(st));
  if (st != OAP_STATUS_OK) return;
  const json *want_hdr = jget(data, "header");
  json *hdr = json_parse((const char *)v.header_json, v.header_json_len);
  CHECK(hdr != NULL, "DATA header is not JSON");
  CHECK(json_equal(hdr, want_hdr), "DATA header JSON differs");
  json_free(hdr);
  bytes body = jhex(jget(data, "body_hex"));
  CHECK(bytes_eq(v.body, v.body_len, &body), "DATA body differs (%zu vs %zu bytes)", v.body_len, body.len);
  /* the typed fields */
  const json *obj = jget(want_hdr, "obj");
  char text[OAP_OBJECT_ID_BUF_LEN];
  size_t tlen = 0;
  CHECK(oap_object_id_format(&v.obj, text, sizeof text, &tlen) == OAP_STATUS_OK &&
            tlen == OAP_OBJECT_ID_STR_LEN && text[tlen] == 0,
        "format obj");
  CHECK(obj && obj->t == J_STR && obj->len == tlen && memcmp(obj->s, text, tlen) == 0,
        "obj %s differs from the vector", text);
  OapObjectId parsed;
  CHECK(obj && oap_object_id_parse(obj->s, obj->len, &parsed) == OAP_STATUS_OK &&
            memcmp(parsed.bytes, v.obj.bytes, 32) == 0,
        "oap_object_id_parse(obj)");
  const json *off = jget(want_hdr, "offset"), *tot = jget(want_hdr, "total_len"),
             *cid = jget(want_hdr, "corr_id"), *e2e = jget(want_hdr, "e2e");
  CHECK(v.has_offset == (off != NULL) && v.offset == (off ? (uint64_t)off->num : 0), "offset");
  CHECK(v.has_total_len == (tot != NULL) && (!tot || v.total_len == (uint64_t)tot->num), "total_len");
  CHECK(v.has_corr_id == (cid != NULL) && (!cid || v.corr_id == (uint64_t)cid->num), "corr_id");
  CHECK(v.e2e == (e2e != NULL && e2e->t == J_BOOL && e2e->b), "e2e");
  if (!v.has_total_len) {
    /* a whole object: the body must hash to obj, one-shot and streamed */
    CHECK(oap_object_id_verify(&v.obj, v.body, v.body_len) == OAP_STATUS_OK,
          "whole-object body does not verify against obj");
    OapHasher *h = NULL;
    CHECK(oap_hasher_new(&h) == OAP_STATUS_OK, "hasher_new");
    for (size_t i = 0; i < v.body_len; i += 7) {
      size_t n = v.body_len - i < 7 ? v.body_len - i : 7;
      CHECK(oap_hasher_update(h, v.body + i, n) == OAP_STATUS_OK, "hasher_update");
    }
    OapObjectId streamed, computed;
    CHECK(oap_hasher_finalize(h, &streamed) == OAP_STATUS_OK, "hasher_finalize");
    oap_hasher_free(h);
    CHECK(oap_object_id_compute(v.body, v.body_len, &computed) == OAP_STATUS_OK, "compute");
    CHECK(memcmp(streamed.bytes, v.obj.bytes, 32) == 0, "streamed hash differs from obj");
    CHECK(memcmp(computed.bytes, v.obj.bytes, 32) == 0, "computed hash differs from obj");
    /* and a tampered body must not verify */
    bytes bad;
    bad.len = v.body_len + (v.body_len == 0);
    bad.p = xmalloc(bad.len);
    bad.p[bad.len - 1] = 0; /* the extra byte when the body is empty */
    if (v.body_len) memcpy(bad.p, v.body, v.body_len);
    bad.p[bad.len - 1] ^= 0x01;
    CHECK(oap_object_id_verify(&v.obj, bad.p, bad.len) == OAP_STATUS_BAD_DIGEST,
          "tampered body verified");
    free(bad.p);
  }
  /* re-packing the same header and body gives the same payload */
  size_t need = 0;
  CHECK(oap_data_pack(v.header_json, v.header_json_len, v.body, v.body_len, NULL, 0, &need) ==
                OAP_STATUS_BUFFER_TOO_SMALL &&
            need == got->payload.len,
        "oap_data_pack size query: %zu", need);
  unsigned char *re = xmalloc(need);
  size_t wrote = 0;
  CHECK(oap_data_pack(v.header_json, v.header_json_len, v.body, v.body_len, re, need, &wrote) ==
                OAP_STATUS_OK &&
            bytes_eq(re, wrote, &got->payload),
        "oap_data_pack differs");
  free(re);
  free(body.p);
}

static void check_outcome(const outcome *o, const json *c, const char *how) {
  const json *err = jget(c, "error"), *frames = jget(c, "frames");
  const char *want_err = err && err->t == J_STR ? err->s : "";
  CHECK(strcmp(o->error, want_err) == 0, "[%s] error: got \"%s\", want \"%s\"", how, o->error, want_err);
  CHECK(frames && o->n == frames->n, "[%s] frame count: got %zu, want %zu", how, o->n,
        frames ? frames->n : 0);
  if (!frames) return;
  for (size_t i = 0; i < o->n && i < frames->n; i++) {
    const json *w = frames->vals[i];
    const dframe *g = &o->frames[i];
    const json *ver = jget(w, "ver"), *typ = jget(w, "typ");
    CHECK(ver && g->ver == (uint8_t)ver->num, "[%s] frame %zu ver", how, i);
    const char *name = oap_frame_type_name(g->typ);
    CHECK(name && typ && strcmp(name, typ->s) == 0, "[%s] frame %zu typ %s", how, i, name ? name : "?");
    if (name)
      for (int t = 1; t <= 6; t++)
        if (g->typ == t) seen_types[t] = 1;
    bytes payload = jhex(jget(w, "payload_hex"));
    CHECK(bytes_eq(g->payload.p, g->payload.len, &payload), "[%s] frame %zu payload bytes", how, i);
    free(payload.p);
    const json *want_json = jget(w, "json");
    if (want_json) {
      json *pj = json_parse((const char *)g->payload.p, g->payload.len);
      CHECK(pj != NULL, "[%s] frame %zu payload is not JSON", how, i);
      CHECK(json_equal(pj, want_json), "[%s] frame %zu json differs", how, i);
      json_free(pj);
    }
    const json *data = jget(w, "data");
    CHECK((data != NULL) == (g->typ == OAP_FRAME_TYPE_DATA), "[%s] frame %zu: data field iff DATA", how, i);
    if (data) check_data(g, data);
  }
}

/* Error-free inputs are exactly the listed frames: re-encode them. */
static void check_encode(const json *c, const bytes *input, uint32_t max_frame) {
  const json *frames = jget(c, "frames");
  unsigned char *out = xmalloc(input->len + 1);
  size_t pos = 0;
  for (size_t i = 0; i < frames->n; i++) {
    const json *typ = jget(frames->vals[i], "typ");
    uint8_t t = 0;
    for (uint8_t k = 1; k <= 6; k++)
      if (strcmp(oap_frame_type_name(k), typ->s) == 0) t = k;
    CHECK(t != 0, "unknown typ %s", typ->s);
    bytes p = jhex(jget(frames->vals[i], "payload_hex"));
    size_t need = 0, wrote = 0;
    CHECK(oap_encode_frame(t, p.p, p.len, max_frame, NULL, 0, &need) ==
                  OAP_STATUS_BUFFER_TOO_SMALL &&
              need == OAP_HEADER_LEN + p.len,
          "size query: need %zu", need);
    if (pos + need <= input->len) {
      CHECK(oap_encode_frame(t, p.p, p.len, max_frame, out + pos, need - 1, &wrote) ==
                    OAP_STATUS_BUFFER_TOO_SMALL && wrote == need,
            "one byte short");
      CHECK(oap_encode_frame(t, p.p, p.len, max_frame, out + pos, need, &wrote) == OAP_STATUS_OK &&
                wrote == need,
            "encode frame %zu", i);
      unsigned char head[OAP_HEADER_LEN];
      size_t hl = 0;
      CHECK(oap_encode_header(t, p.len, max_frame, head, sizeof head, &hl) == OAP_STATUS_OK &&
                hl == OAP_HEADER_LEN && memcmp(head, out + pos, OAP_HEADER_LEN) == 0,
            "encode header %zu", i);
      if (max_frame < UINT32_MAX)
        CHECK(oap_encode_frame(t, p.p, p.len, (uint32_t)p.len - (p.len > 0), out + pos, need,
                               &wrote) == (p.len > 0 ? OAP_STATUS_TOO_LARGE : OAP_STATUS_OK),
              "max_frame enforced on encode");
    }
    pos += need;
    free(p.p);
  }
  CHECK(pos == input->len && memcmp(out, input->p, pos) == 0, "re-encoding differs from input_hex");
  free(out);
}

static int cases = 0;

static void run_case(const json *c) {
  const json *name = jget(c, "name"), *mf = jget(c, "max_frame"), *err = jget(c, "error");
  current_case = name && name->t == J_STR ? name->s : "?";
  uint32_t max_frame = mf && mf->t == J_NUM ? (uint32_t)mf->num : OAP_DEFAULT_MAX_FRAME;
  bytes input = jhex(jget(c, "input_hex"));
  cases++;
  static const struct {
    const char *how;
    size_t chunk;
  } modes[] = {{"whole", 0}, {"bytewise", 1}, {"chunks<=5", 5}, {"chunks<=64", 64}};
  for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
    outcome o = decode(&input, max_frame, modes[m].chunk, (unsigned)(cases * 7919 + m));
    check_outcome(&o, c, modes[m].how);
    outcome_free(&o);
  }
  if (err && err->t == J_STR) {
    for (int e = 0; e < 6; e++)
      if (strcmp(err->s, error_names[e]) == 0) seen_errors[e] = 1;
  } else {
    check_encode(c, &input, max_frame);
  }
  free(input.p);
  current_case = "";
}

/* ------------------------------------------------------------- API checks */

static void api_checks(void) {
  current_case = "api";
  OapFrame f;
  OapDataView v;
  OapObjectId id;
  size_t n = 0;
  unsigned char buf[128];
  /* NULL handles and out-pointers are errors, never crashes */
  CHECK(oap_decoder_new(16, NULL) == OAP_STATUS_NULL_POINTER, "decoder_new NULL out");
  CHECK(oap_decoder_push(NULL, buf, 1) == OAP_STATUS_NULL_POINTER, "push NULL dec");
  CHECK(oap_decoder_next(NULL, &f) == OAP_STATUS_NULL_POINTER, "next NULL dec");
  CHECK(oap_decoder_finish(NULL) == OAP_STATUS_NULL_POINTER, "finish NULL dec");
  CHECK(oap_encode_frame(OAP_FRAME_TYPE_ACK, NULL, 3, OAP_DEFAULT_MAX_FRAME, buf, sizeof buf, &n) ==
            OAP_STATUS_NULL_POINTER,
        "encode NULL payload with len");
  CHECK(oap_encode_frame(OAP_FRAME_TYPE_ACK, NULL, 0, OAP_DEFAULT_MAX_FRAME, buf, sizeof buf, NULL) ==
            OAP_STATUS_NULL_POINTER,
        "encode NULL out_len");
  CHECK(oap_encode_frame(7, NULL, 0, OAP_DEFAULT_MAX_FRAME, buf, sizeof buf, &n) ==
            OAP_STATUS_INVALID_ARGUMENT,
        "encode unknown type");
  CHECK(oap_encode_frame(OAP_FRAME_TYPE_ACK, buf, 4, OAP_DEFAULT_MAX_FRAME, buf + 2, 20, &n) ==
            OAP_STATUS_INVALID_ARGUMENT,
        "overlapping buffers refused");
  CHECK(oap_data_unpack(NULL, 0, &v) == OAP_STATUS_BAD_DATA_HEADER, "unpack empty");
  CHECK(oap_data_unpack(buf, 2, NULL) == OAP_STATUS_NULL_POINTER, "unpack NULL out");
  CHECK(oap_object_id_parse("k12:00", 9, &id) == OAP_STATUS_BAD_OBJECT_ID, "parse k12");
  CHECK(oap_object_id_parse(NULL, 0, &id) == OAP_STATUS_BAD_OBJECT_ID, "parse empty");
  CHECK(oap_object_id_verify(NULL, buf, 1) == OAP_STATUS_NULL_POINTER, "verify NULL id");
  CHECK(oap_object_id_format(&id, (char *)buf, 67, &n) == OAP_STATUS_BUFFER_TOO_SMALL && n == 68,
        "format needs 68");
  CHECK(oap_hasher_update(NULL, buf, 1) == OAP_STATUS_NULL_POINTER, "hasher NULL");
  oap_decoder_free(NULL);
  oap_hasher_free(NULL);
  /* the empty object id is well known */
  char text[OAP_OBJECT_ID_BUF_LEN];
  CHECK(oap_object_id_compute(NULL, 0, &id) == OAP_STATUS_OK &&
            oap_object_id_format(&id, text, sizeof text, &n) == OAP_STATUS_OK &&
            strcmp(text, "b3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262") == 0,
        "id of the empty object: %s", text);
  /* status names: stable and exactly the vector names */
  CHECK(strcmp(oap_status_name(OAP_STATUS_OK), "ok") == 0, "ok name");
  CHECK(strcmp(oap_status_name(OAP_STATUS_BAD_VERSION), "bad_version") == 0, "bad_version name");
  CHECK(strcmp(oap_status_name(OAP_STATUS_TRUNCATED), "truncated") == 0, "truncated name");
  CHECK(strcmp(oap_status_name(12345), "unknown_status") == 0, "unknown status name");
  CHECK(oap_frame_type_name(0) == NULL && oap_frame_type_name(7) == NULL, "unknown type name");
  /* frames completed before an error are delivered, then the error */
  OapDecoder *dec = NULL;
  const unsigned char two[] = {1, 4, 0, 0, 0, 0, 2, 4, 0, 0, 0, 0};
  CHECK(oap_decoder_new(OAP_DEFAULT_MAX_FRAME, &dec) == OAP_STATUS_OK, "new");
  CHECK(oap_decoder_push(dec, two, sizeof two) == OAP_STATUS_OK, "push");
  CHECK(oap_decoder_next(dec, &f) == OAP_STATUS_OK && f.typ == OAP_FRAME_TYPE_END, "END first");
  CHECK(oap_decoder_next(dec, &f) == OAP_STATUS_BAD_VERSION, "then bad_version");
  CHECK(oap_decoder_push(dec, two, sizeof two) == OAP_STATUS_BAD_VERSION, "latched on push");
  CHECK(oap_decoder_finish(dec) == OAP_STATUS_BAD_VERSION, "latched on finish");
  oap_decoder_free(dec);
  /* a partial frame left in a freed decoder is released (LeakSanitizer) */
  CHECK(oap_decoder_new(OAP_DEFAULT_MAX_FRAME, &dec) == OAP_STATUS_OK, "new");
  CHECK(oap_decoder_push(dec, two, 3) == OAP_STATUS_OK, "push partial");
  CHECK(oap_decoder_buffered(dec, &n) == OAP_STATUS_OK && n == 3, "3 bytes buffered");
  oap_decoder_free(dec);
  current_case = "";
}

/* ------------------------------------------------------------------ main */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <vectors dir>\n", argv[0]);
    return 2;
  }
  DIR *d = opendir(argv[1]);
  if (!d) {
    perror(argv[1]);
    return 2;
  }
  char **names = NULL;
  size_t nfiles = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (l > 5 && strcmp(e->d_name + l - 5, ".json") == 0) {
      names = xrealloc(names, (nfiles + 1) * sizeof *names);
      names[nfiles++] = strdup(e->d_name);
    }
  }
  closedir(d);
  qsort(names, nfiles, sizeof *names, cmp_str);
  if (nfiles < 3) {
    fprintf(stderr, "expected at least 3 vector files in %s, found %zu\n", argv[1], nfiles);
    return 1;
  }
  for (size_t i = 0; i < nfiles; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", argv[1], names[i]);
    size_t len;
    char *text = read_file(path, &len);
    json *arr = json_parse(text, len);
    free(text);
    if (!arr || arr->t != J_ARR) {
      fprintf(stderr, "%s: not a JSON array\n", path);
      return 1;
    }
    int before = cases;
    for (size_t k = 0; k < arr->n; k++) run_case(arr->vals[k]);
    printf("%-16s %3d cases\n", names[i], cases - before);
    json_free(arr);
    free(names[i]);
  }
  free(names);
  current_case = "coverage";
  CHECK(cases >= 30, "only %d cases", cases);
  for (int t = 1; t <= 6; t++) CHECK(seen_types[t], "no vector decoded a %s frame", oap_frame_type_name((uint8_t)t));
  for (int k = 0; k < 6; k++) CHECK(seen_errors[k], "no vector for error %s", error_names[k]);
  api_checks();
  printf("%d cases, %ld checks, %d failures\n", cases, checks, failures);
  return failures ? 1 : 0;
}

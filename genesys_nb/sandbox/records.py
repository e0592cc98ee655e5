"""Rendering of user records (the real API's camelCase User JSON) from the org's arrays.

A page is rendered in one pass: traits are computed vectorised for the page's indices, then one
dict per user is built in the key order of the official SDK's User model. Null fields are left
out, as the real API does. With `prerender`, each user's JSON is cached as bytes so a page costs
little more than a join.
"""

from __future__ import annotations

import threading
from typing import cast

import numpy as np
import orjson

from . import catalog, vocab
from .ids import entity_id
from .org import Org
from .traits import (ACTIVE, DAY_MS, PURGED, REF_MS, S_BIO, S_GROUPS, S_IMG, S_LANGS, S_PHONE, S_PRESENCE,
                     S_ROLES, S_SKILLS, STATE_NAMES, iso_day, iso_ms)

EXPAND_VALUES = (
    "routingStatus", "presence", "integrationPresence", "conversationSummary", "outOfOffice", "geolocation",
    "station", "authorization", "lasttokenissued", "authorization.unusedRoles", "team", "workPlanBidRanks",
    "externalContactsSettings", "groups", "customAttributes", "profileSkills", "certifications", "locations",
    "skills", "languages", "languagePreference", "employerInfo", "biography", "dateLastLogin",
    "dateWelcomeSent",
)
_AREA_CODES = ("317", "919", "212", "415", "312", "617", "206", "512")


class Renderer:
    """Builds user dicts and JSON for pages of user indices."""

    def __init__(self, org: Org, prerender: bool = False) -> None:
        self.org = org
        self.traits = org.traits
        self.prerender = prerender
        seed = org.seed
        self._div_refs = [
            {"id": did, "name": name, "selfUri": f"/api/v2/authorization/divisions/{did}"}
            for did, name in zip(org.division_ids, org.division_names)
        ]
        self._groups = [{"id": gid, "name": name, "selfUri": f"/api/v2/groups/{gid}"}
                        for gid, name in zip(org.group_ids, org.group_names)]
        self._skill_ids = [entity_id(seed, "skill", k) for k in range(len(vocab.SKILLS))]
        self._language_ids = [entity_id(seed, "language", k) for k in range(len(vocab.LANGUAGES))]
        self._location_ids = [entity_id(seed, "location", k) for k in range(len(vocab.LOCATIONS))]
        self._perm_cache: dict[frozenset[int], list[str]] = {}
        self._presence_ids = [entity_id(seed, "presence", k) for k in range(len(vocab.SYSTEM_PRESENCES))]
        self._cache: dict[tuple[int, frozenset[str]], bytes] = {}
        self._cache_lock = threading.Lock()

    # -- public ------------------------------------------------------------------------------
    def render(self, idx: np.ndarray, expand: frozenset[str] = frozenset()) -> list[dict]:
        """User dicts for the given indices, in order."""
        idx = np.asarray(idx, dtype=np.int64)
        if len(idx) == 0:
            return []
        return self._build(idx, expand)

    def render_json(self, idx: np.ndarray, expand: frozenset[str] = frozenset()) -> orjson.Fragment:
        """The JSON array of the given users, ready to embed in a response body."""
        idx = np.asarray(idx, dtype=np.int64)
        if not self.prerender:
            return orjson.Fragment(orjson.dumps(self.render(idx, expand)))
        keys = [(i, expand) for i in idx.tolist()]
        cached = [self._cache.get(k) for k in keys]
        missing = [n for n, blob in enumerate(cached) if blob is None]
        if missing:
            # Copied to exact-size objects: orjson's growable output buffers would otherwise pin
            # several times their length each while cached (measured: ~8 kB RSS per 1.2 kB record).
            fresh = [bytes(memoryview(orjson.dumps(d))) for d in self._build(idx[missing], expand)]
            for n, blob in zip(missing, fresh):
                cached[n] = blob
            with self._cache_lock:
                self._cache.update((keys[n], blob) for n, blob in zip(missing, fresh))
        blobs = cast("list[bytes]", cached)  # every gap was filled above
        return orjson.Fragment(b"[" + b",".join(blobs) + b"]")

    def prerender_all(self, chunk: int = 2000) -> int:
        """Fill the cache with the default-field JSON of every live user; returns the count."""
        listing = self.org.listing("any")
        for start in range(0, len(listing), chunk):
            self.render_json(listing.indices(start, start + chunk))
        return len(listing)

    def forget(self, indices: list[int]) -> None:
        """Drop cached JSON of users whose records changed (churn)."""
        if not self._cache:
            return
        drop = set(indices)
        with self._cache_lock:
            for key in [k for k in self._cache if k[0] in drop]:
                del self._cache[key]

    # -- building ----------------------------------------------------------------------------
    def _build(self, idx: np.ndarray, expand: frozenset[str]) -> list[dict]:
        org, t = self.org, self.traits
        ids = org.codec.encode_many(idx)
        states = org.states_of(idx).tolist()
        divisions = org.divisions_of(idx).tolist()
        first, last = t.name_codes(idx)
        first, last = first.tolist(), last.tolist()
        emails = t.emails(idx)
        usernames = t.canonical_emails(idx)
        depts = t.department_codes(idx).tolist()
        titles = t.title_codes(idx).tolist()
        versions = t.versions(idx).tolist()
        misc = t.misc(idx).tolist()
        h_img, h_phone = t.hashes(idx, S_IMG, S_PHONE)
        mgr = t.managers(idx)
        mgr_ids: list[str | None] = [None] * len(idx)
        live_mgr = mgr >= 0
        if live_mgr.any():
            live_mgr &= org.states_of(np.where(live_mgr, mgr, 0)) != PURGED
            for pos, mid in zip(np.flatnonzero(live_mgr).tolist(), org.codec.encode_many(mgr[live_mgr])):
                mgr_ids[pos] = mid
        extra = self._expansions(idx, ids, states, first, last, expand) if expand else None
        fn, ln, dep, tit = vocab.FIRST_NAMES, vocab.LAST_NAMES, vocab.DEPARTMENTS, vocab.TITLES
        divs, jabber, bumps = self._div_refs, org.short_name, org.version_bumps
        out = []
        for k, index in enumerate(idx.tolist()):
            uid = ids[k]
            email = emails[k]
            user: dict = {"id": uid, "name": f"{fn[first[k]]} {ln[last[k]]}", "division": divs[divisions[k]],
                          "chat": {"jabberId": f"{uid[:8]}{uid[9:13]}{uid[14:18]}{uid[19:23]}{uid[24:28]}"
                                               f"@{jabber}.orgspan.com"}}
            if depts[k] >= 0:
                user["department"] = dep[depts[k]]
            primary, addresses = _contacts(email, h_phone[k], index)
            if email is not None:
                user["email"] = email
            user["primaryContactInfo"] = primary
            user["addresses"] = addresses
            user["state"] = STATE_NAMES[states[k]]
            if titles[k] >= 0:
                user["title"] = tit[titles[k]]
            user["username"] = usernames[k]
            if mgr_ids[k] is not None:
                user["manager"] = {"id": mgr_ids[k], "selfUri": f"/api/v2/users/{mgr_ids[k]}"}
            if h_img[k] % 100 < 60:
                base = f"https://images.{org.domain}/profile/{uid}"
                user["images"] = [{"resolution": "x96", "imageUri": f"{base}/x96.jpg"},
                                  {"resolution": "x300", "imageUri": f"{base}/x300.jpg"}]
            user["version"] = versions[k] + bumps.get(index, 0)
            if extra is not None:
                user.update(extra[k][0])
            user["acdAutoAnswer"] = misc[k] % 10 == 0
            if extra is not None:
                user.update(extra[k][1])
            user["selfUri"] = f"/api/v2/users/{uid}"
            out.append(user)
        return out

    def _expansions(self, idx: np.ndarray, ids: list[str], states: list[int], first: list[int], last: list[int],
                    expand: frozenset[str]) -> list[tuple[dict, dict]]:
        """Per user: (fields placed before acdAutoAnswer, fields placed after), in SDK key order."""
        t = self.traits
        h_roles, h_skills, h_langs, h_groups, h_pres, h_bio = t.hashes(
            idx, S_ROLES, S_SKILLS, S_LANGS, S_GROUPS, S_PRESENCE, S_BIO)
        login = t.last_login_ms(idx, np.asarray(states)).tolist()
        hire = t.hire_ms(idx).tolist()
        access = self.org.access
        groups_of: dict[int, list[int]] = {}
        if "groups" in expand:
            gpos, gvals = access.user_groups.rows(idx)
            for pos, g in zip(gpos.tolist(), gvals[:, 0].tolist()):
                groups_of.setdefault(pos, []).append(g)
        roles_of: dict[int, list[int]] = {}
        if "authorization" in expand or "authorization.unusedRoles" in expand:
            rpos, rrole, _, _ = access.effective(idx)
            for pos, r in zip(rpos.tolist(), rrole.tolist()):
                held = roles_of.setdefault(pos, [])
                if r not in held:
                    held.append(r)
        out = []
        for k, index in enumerate(idx.tolist()):
            uid, state = ids[k], states[k]
            pre: dict = {}
            post: dict = {}
            if "certifications" in expand:
                pre["certifications"] = _subset(vocab.CERTIFICATIONS, h_bio[k] >> 3, 2)
            if "biography" in expand and h_bio[k] % 5 < 2:
                pre["biography"] = _biography(h_bio[k])
            if "employerInfo" in expand:
                pre["employerInfo"] = {
                    "officialName": f"{vocab.FIRST_NAMES[first[k]]} {vocab.LAST_NAMES[last[k]]}",
                    "employeeId": f"E{index + 100000:07d}",
                    "employeeType": vocab.EMPLOYEE_TYPES[(h_bio[k] >> 20) % len(vocab.EMPLOYEE_TYPES)],
                    "dateHire": iso_day(hire[k]),
                }
            if "routingStatus" in expand:
                pre["routingStatus"] = routing_status(uid, state, h_pres[k], self.org.now_ms)
            if "presence" in expand:
                pre["presence"] = self._presence(uid, state, h_pres[k])
            if "authorization" in expand or "authorization.unusedRoles" in expand:
                pre["authorization"] = self._authorization(roles_of.get(k, []), "authorization.unusedRoles" in expand)
            if "profileSkills" in expand:
                pre["profileSkills"] = _subset(vocab.PROFILE_SKILLS, h_skills[k] >> 32, 3)
            if "locations" in expand:
                loc = (h_groups[k] >> 40) % len(vocab.LOCATIONS)
                lid = self._location_ids[loc]
                pre["locations"] = [{"id": lid, "locationDefinition": {
                    "id": lid, "name": vocab.LOCATIONS[loc], "selfUri": f"/api/v2/locations/{lid}"}}]
            if "groups" in expand:
                pre["groups"] = [self._groups[g] for g in groups_of.get(k, ())]
            if "skills" in expand:
                pre["skills"] = self._skills(uid, h_skills[k])
            if "languages" in expand:
                pre["languages"] = self._languages(uid, h_langs[k])
            if "languagePreference" in expand:
                post["languagePreference"] = vocab.LANGUAGE_TAGS[h_langs[k] % len(vocab.LANGUAGE_TAGS)]
            if "lasttokenissued" in expand and login[k] >= 0:
                post["lastTokenIssued"] = {"dateIssued": iso_ms(login[k] + (h_pres[k] >> 20) % 3600_000)}
            if "dateLastLogin" in expand and login[k] >= 0:
                post["dateLastLogin"] = iso_ms(login[k])
            if "dateWelcomeSent" in expand and h_bio[k] % 100 < 97:
                post["dateWelcomeSent"] = iso_ms(hire[k] - DAY_MS * 3 + (h_bio[k] >> 24) % DAY_MS)
            out.append((pre, post))
        return out

    def _presence(self, uid: str, state: int, h: int) -> dict:
        p = h % len(vocab.SYSTEM_PRESENCES) if state == ACTIVE else 3
        pid = self._presence_ids[p]
        return {"source": "PURECLOUD", "primary": True,
                "presenceDefinition": {"id": pid, "systemPresence": vocab.SYSTEM_PRESENCES[p],
                                       "selfUri": f"/api/v2/presencedefinitions/{pid}"},
                "message": "", "modifiedDate": iso_ms(REF_MS - (h >> 8) % (3 * DAY_MS)),
                "selfUri": f"/api/v2/users/{uid}/presences/PURECLOUD"}

    def _authorization(self, held: list[int], unused: bool) -> dict:
        """UserAuthorization: effective roles (direct and through groups) as {id, name}, and the union
        of their expanded permissions."""
        ids = self.org.access.role_ids
        held = sorted(held)
        roles = [{"id": ids[r], "name": catalog.ROLES[r].name} for r in held]
        key = frozenset(held)
        perms = self._perm_cache.get(key)
        if perms is None:
            perms = self._perm_cache[key] = sorted({p for r in held for p in catalog.role_permissions(r)})
        auth: dict = {"roles": roles}
        if unused:
            auth["unusedRoles"] = []
        auth["permissions"] = perms
        return auth

    def _skills(self, uid: str, h: int) -> list[dict]:
        out = []
        for s in sorted({(h >> (8 + 6 * j)) % len(vocab.SKILLS) for j in range(h % 5)}):
            sid = self._skill_ids[s]
            out.append({"id": sid, "name": vocab.SKILLS[s], "proficiency": float(1 + (h >> (40 + s % 20)) % 5),
                        "state": "active", "skillUri": f"/api/v2/routing/skills/{sid}",
                        "selfUri": f"/api/v2/users/{uid}/routingskills/{sid}"})
        return out

    def _languages(self, uid: str, h: int) -> list[dict]:
        out = []
        for s in sorted({0 if j == 0 else (h >> (8 + 6 * j)) % len(vocab.LANGUAGES) for j in range(1 + h % 2)}):
            lid = self._language_ids[s]
            out.append({"id": lid, "name": vocab.LANGUAGES[s], "proficiency": float(5 if s == 0 else 1 + (h >> 30) % 4),
                        "state": "active", "languageUri": f"/api/v2/routing/languages/{lid}",
                        "selfUri": f"/api/v2/users/{uid}/routinglanguages/{lid}"})
        return out


def routing_status(uid: str, state: int, h: int, now_ms: int) -> dict:
    """RoutingStatus of a user from its S_PRESENCE hash (deactivated users are OFF_QUEUE)."""
    status = vocab.ROUTING_STATUSES[h % 5] if state == ACTIVE else "OFF_QUEUE"
    return {"userId": uid, "status": status, "startTime": iso_ms(now_ms - (h >> 8) % (8 * 3600_000))}


def _contacts(email: str | None, h: int, index: int) -> tuple[list[dict], list[dict]]:
    """primaryContactInfo and addresses: email (if any), a work phone (~85%), an extension (~60%)."""
    primary: list[dict] = []
    addresses: list[dict] = []
    if email is not None:
        primary.append({"address": email, "mediaType": "EMAIL", "type": "PRIMARY"})
    if h % 100 < 85:
        area = _AREA_CODES[(h >> 8) % len(_AREA_CODES)]
        line = 100 + (h >> 16) % 100
        e164 = f"+1{area}5550{line}"
        display = f"+1 {area}-555-0{line}"
        primary.append({"address": e164, "display": display, "mediaType": "PHONE", "type": "PRIMARY"})
        addresses.append({"address": e164, "display": display, "mediaType": "PHONE", "type": "WORK",
                          "countryCode": "US"})
    if (h >> 32) % 100 < 60:
        ext = str(1000 + index % 9000)
        addresses.append({"display": ext, "mediaType": "PHONE", "type": "WORK2", "extension": ext})
    return primary, addresses


def _subset(words: tuple[str, ...], h: int, most: int) -> list[str]:
    return [words[j] for j in sorted({(h >> (5 * n)) % len(words) for n in range(h % (most + 1))})]


def _biography(h: int) -> dict:
    school = vocab.SCHOOLS[(h >> 8) % len(vocab.SCHOOLS)]
    return {
        "biography": "Customer experience professional.",
        "interests": _subset(vocab.INTERESTS, h >> 12, 3),
        "hobbies": _subset(vocab.INTERESTS, h >> 28, 2),
        "education": [{"school": school, "fieldOfStudy": vocab.FIELDS_OF_STUDY[(h >> 16) % len(vocab.FIELDS_OF_STUDY)],
                       "dateStart": f"{2000 + (h >> 40) % 15}-09-01", "dateEnd": f"{2004 + (h >> 40) % 15}-06-30"}],
    }

import functools
import os

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import config

from ..lib.secretbox import SecretBox, SecretDecryptError, SecretKeyError

KEY_SETTING = "retail_secret_key"


@functools.lru_cache(maxsize=4)
def _cached_box(current, previous):
    """The box for these keys: built once per process, not per request."""
    return SecretBox(current, [k for k in previous.split(",") if k.strip()])


@functools.lru_cache(maxsize=256)
def _open(box, token, context):
    """The plaintext of a sealed secret, kept per process: the webhook accept
    path opens the same few secrets on every request. The process already
    holds what opens them all (the key); a changed secret is a new token."""
    return box.open(token, context)


class RetailSecretMixin(models.AbstractModel):
    """Write-only credentials, encrypted at rest with a key from the server.

    A model lists its secrets in ``_secret_fields``. For each name ``x`` it
    declares three fields:

    - ``x``: the write-only field the form shows; it always reads empty;
    - ``x_sealed``: the stored ciphertext (system group only);
    - ``x_is_set``: whether a value is saved, for the form.

    Code reads the plaintext with ``record._get_secret("x")``.
    """

    _name = "retail.secret.mixin"
    _description = "Encrypted Write-only Secrets"
    _secret_fields = ()

    @api.model
    def _secret_box(self):
        current = config.get(KEY_SETTING) or os.environ.get("RETAIL_SECRET_KEY")
        previous = config.get(f"{KEY_SETTING}_previous") or ""
        try:
            return _cached_box(current, previous)
        except SecretKeyError as err:
            raise UserError(
                _(
                    "Retail Integration cannot encrypt or decrypt secrets: %(reason)s. "
                    "Set retail_secret_key in the Odoo configuration file or the "
                    "RETAIL_SECRET_KEY environment variable (generate one with: "
                    'python3 -c "import base64, os; '
                    'print(base64.urlsafe_b64encode(os.urandom(32)).decode())").',
                    reason=err,
                )
            ) from err

    def _secret_context(self, name):
        return f"{self._name}.{name}"

    def _compute_secret_fields(self):
        for name in self._secret_fields:
            self[name] = False

    def _compute_secret_is_set(self):
        for record in self:
            # sudo: the sealed ciphertexts are base.group_system fields, never sent to a
            # client
            sealed = record.sudo()
            for name in self._secret_fields:
                record[f"{name}_is_set"] = bool(sealed[f"{name}_sealed"])

    def _inverse_secret_fields(self):
        box = None
        for record in self:
            for name in self._secret_fields:
                value = record[name]
                if not value:
                    continue  # an empty field keeps the saved secret
                box = box or self._secret_box()
                token = box.seal(value, self._secret_context(name))
                # sudo: as above: the write-only field seals into the restricted one
                record.sudo()[f"{name}_sealed"] = token
        # Drop the typed values from the cache: the form's read-back after
        # saving, in the same request, must not send them back.
        self.invalidate_recordset(
            [*self._secret_fields, *(f"{n}_is_set" for n in self._secret_fields)]
        )

    def _get_secret(self, name):
        """Return the plaintext of secret ``name`` (empty string if none)."""
        self.ensure_one()
        # sudo: as above: code reads the plaintext for the user, the client never does
        token = self.sudo()[f"{name}_sealed"]
        if not token:
            return ""
        try:
            return _open(self._secret_box(), token, self._secret_context(name))
        except SecretDecryptError as err:
            raise UserError(
                _(
                    "The %(field)s of %(record)s cannot be decrypted: %(reason)s. "
                    "The retail_secret_key that sealed it must be set as "
                    "retail_secret_key or listed in retail_secret_key_previous.",
                    field=self._fields[name].string,
                    record=self.display_name,
                    reason=err,
                )
            ) from err

    def _clear_secret(self, name):
        # sudo: as above
        self.sudo().write({f"{name}_sealed": False})
        self.invalidate_recordset([f"{name}_is_set"])

    @api.model
    def _rotate_secret_key(self):
        """Re-seal every stored secret with the current key; return how many."""
        box = self._secret_box()
        count = 0
        for model_name, model in self.env.registry.items():
            if model._abstract or not getattr(model, "_secret_fields", ()):
                continue
            # sudo: re-sealing every secret of every model with the new key
            records = self.env[model_name].sudo().with_context(active_test=False)
            for name in model._secret_fields:
                field = f"{name}_sealed"
                for record in records.search([(field, "!=", False)]):
                    if box.is_current(record[field]):
                        continue
                    plaintext = record._get_secret(name)
                    record[field] = box.seal(plaintext, record._secret_context(name))
                    count += 1
        return count

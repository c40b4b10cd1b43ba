"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import type { ApiError } from "../../lib/document.ts";
import { setFlash } from "../../lib/flash.ts";
import { unwrap, request } from "../../lib/graphql.ts";
import { toLocalId } from "../../lib/ids.ts";
import {
  CONFIGURE_CREDENTIAL,
  CREATE_SECRET,
  CREDENTIAL_TEMPLATES,
  ORGANIZATION_SECRETS,
  WORKSPACE_SECRETS,
  type CredentialTemplate,
  type SecretPayload,
  type SecretScope,
  type SecretType,
  type SecretValueInput,
} from "../../lib/operations.ts";
import { toRequestError, useQuery } from "../../lib/useQuery.ts";
import { Badge } from "../ui/Badge.tsx";
import { Button } from "../ui/Button.tsx";
import { Checkbox, SecretField, SelectField, TextAreaField, TextField } from "../ui/Field.tsx";
import { Time } from "../ui/Time.tsx";
import { Loading } from "../ui/Loading.tsx";
import { Notice } from "../ui/Notice.tsx";
import { PageHeader, Panel } from "../ui/Panel.tsx";
import { QueryError } from "../ui/QueryError.tsx";
import ui from "../ui/ui.module.css";
import styles from "./credentials.module.css";
import { sentence, splitIssues } from "./issues.ts";
import { STRUCTURED_TYPES, type StructuredType } from "./structuredTypes.ts";

/** Where the new credential goes: a workspace (shared or personal) or the organization. */
export type Target =
  | { kind: "workspace"; workspaceId: string; environments: string[] }
  | { kind: "organization"; organizationId: string; environments: string[] };

type Choice =
  | { kind: "template"; template: CredentialTemplate }
  | { kind: "custom" }
  | { kind: "structured"; type: StructuredType };

export default function CreateCredential({
  target,
  listHref,
  detailHref,
  environmentsHref,
}: {
  target: Target;
  listHref: string;
  detailHref: (localId: string) => string;
  environmentsHref?: string;
}) {
  const [choice, setChoice] = useState<Choice | null>(null);
  const templates = useQuery(CREDENTIAL_TEMPLATES, {});
  const where = target.kind === "organization" ? "organization" : "workspace";

  if (choice)
    return (
      <CredentialForm
        choice={choice}
        target={target}
        onBack={() => setChoice(null)}
        detailHref={detailHref}
        environmentsHref={environmentsHref}
      />
    );

  return (
    <>
      <PageHeader
        breadcrumb={<Link href={listHref}>Credentials</Link>}
        title="Add a credential"
        description={`Pick a prebuilt credential for a built-in integration (its name and keys are filled in), or create your own. It is stored in this ${where}.`}
      />
      <div className={ui.stack}>
        <Panel
          title="Prebuilt credentials"
          description="Integrations expect fixed names and keys, e.g. ${{ SECRETS.slack.SLACK_BOT_TOKEN }}."
        >
          {templates.error ? <QueryError error={templates.error} retry={templates.reload} /> : null}
          {!templates.data && !templates.error ? <Loading label="Loading templates…" /> : null}
          <ul className={styles.cards}>
            {templates.data?.credentialTemplates.map((t) => (
              <li key={t.id} className={styles.card} data-template={t.id}>
                <div>
                  <h3 className={styles.cardTitle}>{t.title}</h3>
                  <p className={styles.cardText}>{t.description}</p>
                  <p className={styles.cardKeys}>
                    <code>{t.secretName}</code>
                    {" · "}
                    {t.requiredKeys.length
                      ? t.requiredKeys.map((k) => k.name).join(", ")
                      : `at least one of ${t.atLeastOneOf.length} keys`}
                  </p>
                </div>
                <Button
                  small
                  onClick={() => setChoice({ kind: "template", template: t })}
                  aria-label={`Configure ${t.title}`}
                >
                  Configure
                </Button>
              </li>
            ))}
          </ul>
        </Panel>
        <Panel
          title="Your own credential"
          description="Structured types get a form that checks the key or certificate before it is saved."
        >
          <ul className={styles.cards}>
            <li className={styles.card}>
              <div>
                <h3 className={styles.cardTitle}>Custom</h3>
                <p className={styles.cardText}>Any name and any keys, e.g. github-pat.</p>
              </div>
              <Button
                small
                onClick={() => setChoice({ kind: "custom" })}
                aria-label="Create custom"
              >
                Create
              </Button>
            </li>
            {(Object.keys(STRUCTURED_TYPES) as StructuredType[]).map((type) => (
              <li key={type} className={styles.card}>
                <div>
                  <h3 className={styles.cardTitle}>{STRUCTURED_TYPES[type].title}</h3>
                  <p className={styles.cardText}>{STRUCTURED_TYPES[type].description}</p>
                </div>
                <Button
                  small
                  onClick={() => setChoice({ kind: "structured", type })}
                  aria-label={`Create ${STRUCTURED_TYPES[type].title}`}
                >
                  Create
                </Button>
              </li>
            ))}
          </ul>
        </Panel>
      </div>
    </>
  );
}

type Row = { id: number; key: string; value: string };

function CredentialForm({
  choice,
  target,
  onBack,
  detailHref,
  environmentsHref,
}: {
  choice: Choice;
  target: Target;
  onBack: () => void;
  detailHref: (localId: string) => string;
  environmentsHref: string | undefined;
}) {
  const router = useRouter();
  const template = choice.kind === "template" ? choice.template : undefined;
  const structured = choice.kind === "structured" ? STRUCTURED_TYPES[choice.type] : undefined;
  const [name, setName] = useState(template?.secretName ?? "");
  const [description, setDescription] = useState("");
  const [environment, setEnvironment] = useState(
    target.environments.includes("default") ? "default" : (target.environments[0] ?? "default"),
  );
  const [scope, setScope] = useState<SecretScope>(
    target.kind === "organization" ? "ORGANIZATION" : "WORKSPACE",
  );
  // Fixed keys (template, structured type) by name; custom keys as editable rows.
  const [values, setValues] = useState<Record<string, string>>({});
  const [rows, setRows] = useState<Row[]>([{ id: 1, key: "", value: "" }]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const { fields, general } = splitIssues(error);
  // A template's name is fixed: what already exists under it here is shown, and replacing it
  // takes an explicit tick (and pins its version, so a change made meanwhile is refused).
  const existingQuery = useExisting(target, template?.secretName, environment, scope);
  const existing = existingQuery.existing;
  const [replace, setReplace] = useState<number | null>(null);
  const replacing =
    existing !== null && existing !== undefined && replace === existing.currentVersion;

  const title = template
    ? `Configure ${template.title}`
    : structured
      ? `New ${structured.title}`
      : "New custom credential";

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const entries: SecretValueInput[] =
      choice.kind === "custom"
        ? rows
            .filter((r) => r.key.trim() || r.value)
            .map((r) => ({ key: r.key.trim(), value: r.value }))
        : Object.entries(values)
            .filter(([, value]) => value !== "")
            .map(([key, value]) => ({ key, value }));
    const where =
      target.kind === "organization"
        ? { organizationId: target.organizationId }
        : { workspaceId: target.workspaceId };
    setBusy(true);
    setError(undefined);
    try {
      let result;
      if (template) {
        const { configureCredential } = await request(CONFIGURE_CREDENTIAL, {
          input: {
            templateId: template.id,
            environment,
            scope,
            values: entries,
            expectedVersion: existing ? existing.currentVersion : 0,
            ...where,
          },
        });
        result = unwrap(configureCredential);
        // Changed meanwhile (or created by someone else): show what is there now.
        if (!result.ok && result.error.code === "CONFLICT") {
          setReplace(null);
          existingQuery.reload();
        }
      } else {
        const type: SecretType = choice.kind === "structured" ? choice.type : "CUSTOM";
        const { createSecret } = await request(CREATE_SECRET, {
          input: {
            name: name.trim(),
            environment,
            scope,
            type,
            values: entries,
            ...(description.trim() ? { description: description.trim() } : {}),
            ...where,
          },
        });
        result = unwrap(createSecret);
      }
      if (!result.ok) {
        setError(result.error);
        setBusy(false);
        return;
      }
      finish(result.data);
    } catch (caught) {
      const failure = toRequestError(caught);
      setError({ __typename: "RequestError", code: failure.code, message: failure.message });
      setBusy(false);
    }
  }

  function finish(payload: SecretPayload) {
    // Drop every typed value before leaving: nothing of it survives this form.
    setValues({});
    setRows([]);
    const saved = template?.secretName ?? name.trim();
    setFlash(
      payload.warnings.length
        ? {
            tone: "warning",
            title: `Saved ${saved} (version ${payload.secret.currentVersion}) with warnings`,
            details: payload.warnings,
          }
        : {
            tone: "success",
            title: `Saved ${saved} in ${environment} (version ${payload.secret.currentVersion}). Its values can no longer be displayed.`,
          },
    );
    router.push(detailHref(toLocalId(payload.secret.id)));
  }

  const setValue = (key: string, value: string) => setValues((v) => ({ ...v, [key]: value }));

  return (
    <>
      <PageHeader
        breadcrumb={
          <button type="button" className="linkButton" onClick={onBack}>
            ← All credential kinds
          </button>
        }
        title={title}
        description={
          template
            ? template.description
            : structured
              ? structured.description
              : "Any keys you choose. Actions reference them as ${{ SECRETS.<name>.<KEY> }}."
        }
      />
      <form onSubmit={onSubmit} noValidate aria-label={title}>
        <div className={ui.stack}>
          {general.length || (error && !error.issues?.length) ? (
            <Notice
              tone="danger"
              title={
                error?.__typename === "ValidationError"
                  ? "The credential was not saved. Check these problems:"
                  : "The credential was not saved"
              }
              details={general.map(sentence)}
            />
          ) : null}
          {error?.issues?.length && !general.length ? (
            <Notice
              tone="danger"
              title="The credential was not saved. Check the fields marked below."
            />
          ) : null}
          <Panel title="Where it lives">
            <div className={styles.grid}>
              {template ? (
                <TextField
                  label="Name"
                  value={template.secretName}
                  readOnly
                  hint="Integrations look this name up, so it is fixed by the template."
                />
              ) : (
                <TextField
                  label="Name"
                  requiredMark
                  required
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                  placeholder="e.g. github-pat"
                  hint="Lowercase letters, digits, '-' and '_'; this is the slug actions use."
                  error={fields.name}
                  autoComplete="off"
                  spellCheck={false}
                />
              )}
              <EnvironmentField
                target={target}
                value={environment}
                onChange={setEnvironment}
                error={fields.environment}
                environmentsHref={environmentsHref}
              />
              {target.kind === "workspace" ? (
                <SelectField
                  label="Who can use it"
                  value={scope}
                  onChange={(e) => setScope(e.target.value as SecretScope)}
                  hint={
                    scope === "PERSONAL"
                      ? "Only you see it, and only runs on your behalf use it. You can share it later."
                      : "Everyone in the workspace with access to credentials can use it."
                  }
                >
                  <option value="WORKSPACE">Shared with the workspace</option>
                  <option value="PERSONAL">Personal (only me)</option>
                </SelectField>
              ) : (
                <TextField
                  label="Scope"
                  value="Organization: every workspace can resolve it"
                  readOnly
                />
              )}
              {template ? null : (
                <TextField
                  label="Description"
                  optionalMark
                  value={description}
                  onChange={(e) => setDescription(e.target.value)}
                  placeholder="What it is for (never the value)"
                  error={fields.description}
                />
              )}
            </div>
          </Panel>

          <Panel
            title="Values"
            description="Values are encrypted when saved and never shown again, to anyone."
          >
            <div className={ui.stack}>
              {template ? (
                <TemplateKeys
                  template={template}
                  values={values}
                  onChange={setValue}
                  errors={fields}
                />
              ) : null}
              {structured
                ? structured.keys.map((k) => (
                    <TextAreaField
                      key={k.name}
                      label={
                        <>
                          <code>{k.name}</code> — {k.label}
                        </>
                      }
                      requiredMark
                      required
                      rows={8}
                      value={values[k.name] ?? ""}
                      onChange={(e) => setValue(k.name, e.target.value)}
                      placeholder={k.placeholder}
                      hint={k.hint}
                      error={fields[k.name]}
                    />
                  ))
                : null}
              {choice.kind === "custom" ? (
                <CustomRows rows={rows} onChange={setRows} errors={fields} />
              ) : null}
            </div>
          </Panel>
          {template && existing ? (
            <Notice
              tone="warning"
              title={`${template.secretName} already exists in ${environment}`}
            >
              <p style={{ margin: "0 0 0.5rem" }}>
                Version {existing.currentVersion}, keys {existing.keyNames.join(", ")}, last used{" "}
                <Time iso={existing.lastUsedAt} fallback="never" />. Saving writes version{" "}
                {existing.currentVersion + 1} over it; keys left empty keep their values.
              </p>
              <Checkbox
                label={`Replace ${template.secretName} in ${environment}`}
                checked={replacing}
                onChange={(e) => setReplace(e.target.checked ? existing.currentVersion : null)}
              />
            </Notice>
          ) : null}
          <div className={ui.pageActions}>
            <Button
              type="submit"
              variant="primary"
              busy={busy}
              disabled={
                Boolean(template) && (existing === undefined || (existing !== null && !replacing))
              }
            >
              {busy
                ? "Saving…"
                : template && existing
                  ? `Replace with version ${existing.currentVersion + 1}`
                  : "Save credential"}
            </Button>
            <Button onClick={onBack} disabled={busy}>
              Cancel
            </Button>
          </div>
        </div>
      </form>
    </>
  );
}

function EnvironmentField({
  target,
  value,
  onChange,
  error,
  environmentsHref,
}: {
  target: Target;
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
  environmentsHref: string | undefined;
}) {
  if (target.kind === "organization")
    return (
      <>
        <TextField
          label="Environment"
          requiredMark
          required
          value={value}
          onChange={(e) => onChange(e.target.value)}
          list="organization-environments"
          hint="Resolutions in a workspace environment of this name find it."
          error={error}
        />
        <datalist id="organization-environments">
          {target.environments.map((env) => (
            <option key={env} value={env} />
          ))}
        </datalist>
      </>
    );
  return (
    <SelectField
      label="Environment"
      requiredMark
      value={value}
      onChange={(e) => onChange(e.target.value)}
      error={error}
      hint={
        <>
          Runs pick it up in this environment only.{" "}
          {environmentsHref ? (
            <Link href={environmentsHref}>Declare another environment</Link>
          ) : null}
        </>
      }
    >
      {target.environments.map((env) => (
        <option key={env} value={env}>
          {env}
        </option>
      ))}
    </SelectField>
  );
}

function TemplateKeys({
  template,
  values,
  onChange,
  errors,
}: {
  template: CredentialTemplate;
  values: Record<string, string>;
  onChange: (key: string, value: string) => void;
  errors: Record<string, string>;
}) {
  return (
    <>
      {template.atLeastOneOf.length ? (
        <Notice tone="info" title="Give at least one of these keys">
          None is required on its own, but the credential needs at least one of{" "}
          {template.atLeastOneOf.map((k, i) => (
            <span key={k}>
              {i ? ", " : ""}
              <code>{k}</code>
            </span>
          ))}
          . Leave the others empty.
        </Notice>
      ) : null}
      {template.requiredKeys.map((k) => (
        <SecretField
          key={k.name}
          label={<code>{k.name}</code>}
          requiredMark
          required
          hint={k.description}
          value={values[k.name] ?? ""}
          onChange={(e) => onChange(k.name, e.target.value)}
          error={errors[k.name]}
        />
      ))}
      {template.optionalKeys.map((k) => {
        const deprecated = template.deprecatedKeys.includes(k.name);
        return (
          <SecretField
            key={k.name}
            label={
              <>
                <code>{k.name}</code> {deprecated ? <Badge tone="warning">Deprecated</Badge> : null}
              </>
            }
            optionalMark={!deprecated}
            hint={
              deprecated
                ? `${k.description}. Deprecated: saving it is accepted with a warning; leave it empty for new credentials.`
                : k.description
            }
            value={values[k.name] ?? ""}
            onChange={(e) => onChange(k.name, e.target.value)}
            error={errors[k.name]}
          />
        );
      })}
    </>
  );
}

function CustomRows({
  rows,
  onChange,
  errors,
}: {
  rows: Row[];
  onChange: (rows: Row[]) => void;
  errors: Record<string, string>;
}) {
  const update = (id: number, patch: Partial<Row>) =>
    onChange(rows.map((r) => (r.id === id ? { ...r, ...patch } : r)));
  return (
    <>
      {rows.map((row, index) => (
        <fieldset key={row.id} className={styles.keyRow}>
          <legend className="visually-hidden">Key {index + 1}</legend>
          <TextField
            label={`Key ${index + 1}`}
            value={row.key}
            onChange={(e) => update(row.id, { key: e.target.value })}
            placeholder="e.g. API_KEY"
            className={ui.mono}
            autoComplete="off"
            spellCheck={false}
            error={errors[row.key.trim() || "(empty)"]}
          />
          <SecretField
            label={`Value ${index + 1}`}
            value={row.value}
            onChange={(e) => update(row.id, { value: e.target.value })}
          />
          <Button
            small
            variant="ghost"
            onClick={() => onChange(rows.filter((r) => r.id !== row.id))}
            disabled={rows.length === 1}
            aria-label={`Remove key ${index + 1}`}
          >
            Remove
          </Button>
        </fieldset>
      ))}
      <div>
        <Button
          small
          onClick={() =>
            onChange([
              ...rows,
              { id: Math.max(0, ...rows.map((r) => r.id)) + 1, key: "", value: "" },
            ])
          }
        >
          Add key
        </Button>
      </div>
      <p className={ui.hint}>
        Keys start with a letter or <code>_</code> and hold letters, digits and <code>_</code>, e.g.{" "}
        <code>API_KEY</code>.
      </p>
    </>
  );
}

/**
 * The live credential with this name in this environment and scope, if any: null when
 * there is none, undefined while it is being looked up (or for a name not fixed yet).
 */
function useExisting(
  target: Target,
  name: string | undefined,
  environment: string,
  scope: SecretScope,
) {
  const filter = { environment, scopes: [scope], search: name ?? "" };
  const workspace = useQuery(
    WORKSPACE_SECRETS,
    { id: target.kind === "workspace" ? target.workspaceId : "", filter, after: null },
    { skip: !name || target.kind !== "workspace" },
  );
  const organization = useQuery(
    ORGANIZATION_SECRETS,
    { id: target.kind === "organization" ? target.organizationId : "", filter, after: null },
    { skip: !name || target.kind !== "organization" },
  );
  const page =
    target.kind === "workspace"
      ? workspace.data?.workspace?.secrets
      : organization.data?.organization?.secrets;
  const loading = target.kind === "workspace" ? workspace.loading : organization.loading;
  const found = page?.edges
    .map((e) => e.node)
    .find((s) => s.name === name && s.environment === environment && s.scope === scope);
  return {
    existing: !name || !page || loading ? undefined : (found ?? null),
    reload: target.kind === "workspace" ? workspace.reload : organization.reload,
  };
}

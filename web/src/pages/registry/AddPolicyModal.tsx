/**
 * The Add Cleanup Policy and Add Protection Policy dialogs: an image filter and a tag filter (pattern, glob or regex,
 * matching or excluding; untagged artifacts), and for cleanup the rule. The server checks again and its refusal
 * (a bad pattern, a duplicate, the limit of 15) is shown in the dialog.
 */
import { Alert, Button, Checkbox, Fieldset, Group, Modal, NumberInput, SegmentedControl, Select, Stack, Text, TextInput } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { type FormEvent, useState } from 'react';
import { errorMessage } from '../../api/client';
import { type FilterMode, type KeepKind, type PatternSyntax, type PolicyKind, useCreatePolicy } from '../../api/policies';
import { KEEP_OPTIONS, policySentence } from './policyText';

interface FilterState {
  pattern: string;
  syntax: PatternSyntax;
  mode: FilterMode;
}

const EVERYTHING: FilterState = { pattern: '**', syntax: 'glob', mode: 'matching' };
const MAX_N = 100_000;

/** What is wrong with a pattern, checked before the server does (which says the same in its own words). */
export function patternProblem(f: FilterState): string | null {
  if (!f.pattern.trim()) return 'Give a pattern, e.g. ** for every name.';
  if (f.pattern.length > 256) return 'At most 256 characters.';
  if (f.syntax === 'regex') {
    try {
      new RegExp(`^(?:${f.pattern})$`, 'u');
    } catch {
      return 'Not a valid regular expression.';
    }
  }
  return null;
}

function FilterFields({ legend, noun, value, onChange, hint, children }: { legend: string; noun: string; value: FilterState; onChange: (f: FilterState) => void; hint: string; children?: React.ReactNode }) {
  const problem = patternProblem(value);
  return (
    <Fieldset legend={legend} variant="filled" p="sm">
      <Stack gap="xs">
        <Group align="flex-end" gap="sm" wrap="wrap">
          <TextInput
            label={`${noun} pattern`}
            value={value.pattern}
            onChange={(e) => onChange({ ...value, pattern: e.currentTarget.value })}
            error={problem}
            classNames={{ input: 'mono' }}
            autoCapitalize="none"
            spellCheck={false}
            required
            style={{ flex: '1 1 220px' }}
          />
          {/* beside the input, lined up with it (the error, when shown, goes below) */}
          <Group gap="xs" wrap="nowrap" mb={problem ? 24 : 4}>
            <SegmentedControl
              size="xs"
              aria-label={`${noun} pattern syntax`}
              value={value.syntax}
              onChange={(v) => onChange({ ...value, syntax: v as PatternSyntax })}
              data={[
                { value: 'glob', label: 'Glob' },
                { value: 'regex', label: 'Regex' },
              ]}
            />
            <SegmentedControl
              size="xs"
              aria-label={`${noun} filter mode`}
              value={value.mode}
              onChange={(v) => onChange({ ...value, mode: v as FilterMode })}
              data={[
                { value: 'matching', label: 'Matching' },
                { value: 'excluding', label: 'Excluding' },
              ]}
            />
          </Group>
        </Group>
        <Text size="xs" c="dimmed" mt={-4}>
          {hint}
        </Text>
        {children}
      </Stack>
    </Fieldset>
  );
}

function AddPolicyModal({ registry, kind, opened, onClose }: { registry: string; kind: PolicyKind; opened: boolean; onClose: () => void }) {
  const create = useCreatePolicy(registry, kind);
  const [image, setImage] = useState<FilterState>(EVERYTHING);
  const [tag, setTag] = useState<FilterState>(EVERYTHING);
  const [untagged, setUntagged] = useState(false);
  const [keep, setKeep] = useState<KeepKind>('latestPushed');
  const [n, setN] = useState<number | string>(10);
  const option = KEEP_OPTIONS.find((o) => o.value === keep)!;
  const nValue = typeof n === 'number' ? n : Number(n);
  const nProblem = kind === 'cleanup' && option.unit && (!Number.isInteger(nValue) || nValue < 1 || nValue > MAX_N) ? `A whole number from 1 to ${MAX_N.toLocaleString()}.` : null;
  const invalid = Boolean(patternProblem(image) || patternProblem(tag) || nProblem);
  const title = kind === 'cleanup' ? 'Add Cleanup Policy' : 'Add Protection Policy';
  const rule = kind === 'cleanup' ? (option.unit ? { keep, n: nValue } : { keep }) : undefined;

  const close = () => {
    if (create.isPending) return;
    setImage(EVERYTHING);
    setTag(EVERYTHING);
    setUntagged(false);
    setKeep('latestPushed');
    setN(10);
    create.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (invalid) return;
    create.mutate({ imageFilter: image, tagFilter: { ...tag, untagged }, ...(rule ? { rule } : {}) }, { onSuccess: close });
  };

  return (
    <Modal opened={opened} onClose={close} title={title} centered size="lg">
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <FilterFields legend="Images" noun="Image" value={image} onChange={setImage} hint="The image's path in the registry, e.g. team/app. Glob: ** any path, * one segment, {a,b} either; a regex matches the whole name." />
          <FilterFields legend="Tags" noun="Tag" value={tag} onChange={setTag} hint="An artifact is selected when any of its tags is. Glob: * any characters, ? one, {a,b} either.">
            <Checkbox label="Include untagged artifacts" checked={untagged} onChange={(e) => setUntagged(e.currentTarget.checked)} />
          </FilterFields>
          {kind === 'cleanup' && (
            <Fieldset legend="Rule" variant="filled" p="sm">
              <Group align="flex-start" gap="sm" wrap="wrap">
                <Select
                  label="What to keep"
                  data={KEEP_OPTIONS.map(({ value, label }) => ({ value, label }))}
                  value={keep}
                  onChange={(v) => v && setKeep(v as KeepKind)}
                  allowDeselect={false}
                  comboboxProps={{ withinPortal: true }}
                  style={{ flex: '1 1 300px' }}
                />
                {option.unit && (
                  <NumberInput
                    label={option.unit === 'days' ? 'Number of days' : 'Number of artifacts'}
                    value={n}
                    onChange={setN}
                    min={1}
                    max={MAX_N}
                    allowDecimal={false}
                    allowNegative={false}
                    error={nProblem}
                    w={160}
                  />
                )}
              </Group>
            </Fieldset>
          )}
          <Text size="sm" fw={500} aria-live="polite" data-testid="policy-sentence">
            {policySentence(image, { ...tag, untagged }, rule ?? null)}
          </Text>
          {create.error && (
            <Alert color="red" icon={<IconAlertTriangle size={18} />} title="The policy was not added" role="alert">
              {errorMessage(create.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close} disabled={create.isPending}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} disabled={invalid}>
              Add policy
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export function AddCleanupPolicyModal(props: { registry: string; opened: boolean; onClose: () => void }) {
  return <AddPolicyModal {...props} kind="cleanup" />;
}

export function AddProtectionPolicyModal(props: { registry: string; opened: boolean; onClose: () => void }) {
  return <AddPolicyModal {...props} kind="protection" />;
}

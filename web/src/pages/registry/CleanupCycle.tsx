/** Cleanup Cycle Setting: the registry's cleanup schedule as a cron expression in UTC, with its next run time. */
import { Alert, Button, Group, Paper, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { IconAlertTriangle, IconClockHour4 } from '@tabler/icons-react';
import { type FormEvent, useState } from 'react';
import { errorMessage } from '../../api/client';
import { useCleanupSchedule, useSetCleanupSchedule } from '../../api/policies';
import { usePermissions } from '../../api/session';
import { DateTime } from '../../components/DateTime';
import { LoadError, LoadingRows } from '../../components/QueryState';
import { formatUtc } from '../../lib/format';

/** The guide's table of cron fields (its "Hour 0-59" corrected to 0-23). */
const FIELDS: [string, string, string][] = [
  ['Minute', '0-59', '* / , -'],
  ['Hour', '0-23', '* / , -'],
  ['Date', '1-31', '* / , ?'],
  ['Month', '1-12 or JAN-DEC', '* / , -'],
  ['Day', '0-6 or SUN-SAT', '* / , ?'],
];

/** A few fields' worth of dumb checks; the server parses it for real and says what is wrong. */
export function cronProblem(cron: string): string | null {
  const fields = cron.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5) return 'Five fields separated by spaces: minute hour date month day, e.g. 0 3 * * *';
  return null;
}

export function CleanupCycle({ registry }: { registry: string }) {
  const q = useCleanupSchedule(registry);
  const set = useSetCleanupSchedule(registry);
  const { canWrite } = usePermissions();
  const [cron, setCron] = useState('');
  const problem = cron ? cronProblem(cron) : null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!cron || problem) return;
    set.mutate(cron.trim(), { onSuccess: () => setCron('') });
  };

  return (
    <Paper withBorder p={{ base: 'sm', sm: 'md' }} component="section" aria-labelledby="cleanup-cycle">
      <Group gap="xs" mb={4}>
        <IconClockHour4 size={20} />
        <Title order={4} id="cleanup-cycle">
          Cleanup Cycle Setting
        </Title>
      </Group>
      <Text size="sm" c="dimmed" mb="md">
        Runs the enabled cleanup policies automatically, like Run Immediately, on a cron schedule (* * * * *). Each run is in View History.
      </Text>
      {q.isPending ? (
        <LoadingRows rows={1} />
      ) : q.isError ? (
        <LoadError error={q.error} retry={() => q.refetch()} what="the cleanup cycle" />
      ) : (
        <Stack gap="md">
          <div data-testid="cleanup-cycle-current">
            {q.data.cron ? (
              <Group gap="xl" wrap="wrap">
                <div>
                  <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                    Cycle
                  </Text>
                  <Text className="mono">{q.data.cron} (UTC)</Text>
                </div>
                <div>
                  <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                    Next run
                  </Text>
                  <Text size="sm">
                    {q.data.nextAt ? (
                      <>
                        <DateTime value={q.data.nextAt} /> <Text span size="sm" c="dimmed">({formatUtc(q.data.nextAt)})</Text>
                      </>
                    ) : (
                      '—'
                    )}
                  </Text>
                </div>
                <div>
                  <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                    Last run by the cycle
                  </Text>
                  <DateTime value={q.data.lastFiredAt} />
                </div>
              </Group>
            ) : (
              <Text size="sm">No cycle is set: cleanup runs only when someone clicks Run Immediately.</Text>
            )}
          </div>
          {canWrite && (
            <form onSubmit={submit} noValidate>
              <Group align="flex-start" gap="sm" wrap="wrap">
                <TextInput
                  label="Cron expression (UTC)"
                  placeholder={q.data.cron ?? '0 3 * * *'}
                  value={cron}
                  onChange={(e) => setCron(e.currentTarget.value)}
                  error={problem}
                  classNames={{ input: 'mono' }}
                  spellCheck={false}
                  autoCapitalize="none"
                  w={260}
                />
                <Button type="submit" mt={25} loading={set.isPending && set.variables !== null} disabled={!cron || Boolean(problem)}>
                  {q.data.cron ? 'Change cycle' : 'Set cycle'}
                </Button>
                {q.data.cron && (
                  <Button variant="default" mt={25} loading={set.isPending && set.variables === null} onClick={() => set.mutate(null)}>
                    Remove cycle
                  </Button>
                )}
              </Group>
              {set.error && (
                <Alert color="red" mt="sm" icon={<IconAlertTriangle size={18} />} title="The cycle was not changed" role="alert">
                  {errorMessage(set.error)}
                </Alert>
              )}
            </form>
          )}
          <Table.ScrollContainer minWidth={420}>
            <Table aria-label="Cron fields" withTableBorder fz="sm" verticalSpacing={4} maw={640}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Field name</Table.Th>
                  <Table.Th>Acceptable range of values</Table.Th>
                  <Table.Th>Allowed special characters</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {FIELDS.map(([name, range, chars]) => (
                  <Table.Tr key={name}>
                    <Table.Td>{name}</Table.Td>
                    <Table.Td>{range}</Table.Td>
                    <Table.Td className="mono">{chars}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          <Text size="sm" c="dimmed">
            The time zone used with cron expressions is Coordinated Universal Time (UTC): <span className="mono">0 3 * * *</span> runs every day at 03:00 UTC.
          </Text>
        </Stack>
      )}
    </Paper>
  );
}

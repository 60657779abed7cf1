/** Artifacts of an image: short digest with copy, tags, kind and platforms, vulnerability (scan status), authentication (signatures), size, pushed and pulled times. */
import { Anchor, Badge, EmptyState, Group, Table, Text } from '@mantine/core';
import { IconStack2 } from '@tabler/icons-react';
import { Link, useLocation } from 'react-router';
import type { ScanOverview } from '../../api/scanning';
import type { Artifact } from '../../api/types';
import { AuthenticationBadge } from '../../components/AuthenticationBadge';
import { CopyButton } from '../../components/CopyButton';
import { DateTime } from '../../components/DateTime';
import { VulnerabilityBadge } from '../../components/VulnerabilityBadge';
import { artifactKind, formatBytes, isIndex, shortDigest } from '../../lib/format';

const MAX_TAGS = 4;

export function ArtifactsTable({ artifacts, selected, onSelect, scans }: { artifacts: Artifact[]; selected?: string; onSelect: (digest: string) => void; scans?: Map<string, ScanOverview> }) {
  const { pathname } = useLocation();
  if (artifacts.length === 0) {
    return <EmptyState my="lg" icon={<IconStack2 size={26} />} title="No artifacts" description="Every artifact of this image has been deleted. Push again to add one." />;
  }
  return (
    <Table.ScrollContainer minWidth={1180}>
      <Table highlightOnHover aria-label="Artifacts">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Digest</Table.Th>
            <Table.Th miw={150}>Tags</Table.Th>
            <Table.Th>Type</Table.Th>
            <Table.Th miw={230}>Vulnerability</Table.Th>
            <Table.Th miw={190}>Authentication</Table.Th>
            <Table.Th ta="right">Size</Table.Th>
            <Table.Th>Pushed</Table.Th>
            <Table.Th>Last pulled</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {artifacts.map((a) => {
            const isSel = a.digest === selected;
            return (
              <Table.Tr key={a.digest} className="clickable-row" data-selected={isSel} onClick={() => onSelect(a.digest)}>
                <Table.Td>
                  <Group gap={2} wrap="nowrap">
                    <Anchor
                      component={Link}
                      to={`${pathname}?digest=${encodeURIComponent(a.digest)}`}
                      className="mono"
                      fw={isSel ? 700 : 500}
                      aria-current={isSel ? 'true' : undefined}
                      aria-label={`Artifact ${shortDigest(a.digest)}${a.tags.length ? `, tags ${a.tags.join(', ')}` : ', untagged'}`}
                      onClick={(e) => {
                        e.preventDefault();
                        e.stopPropagation();
                        onSelect(a.digest);
                      }}
                    >
                      {shortDigest(a.digest)}
                    </Anchor>
                    <CopyButton value={a.digest} label="Copy full digest" />
                  </Group>
                </Table.Td>
                <Table.Td>
                  {a.tags.length === 0 ? (
                    <Text size="sm" c="dimmed">
                      untagged
                    </Text>
                  ) : (
                    <Group gap={4}>
                      {a.tags.slice(0, MAX_TAGS).map((t) => (
                        <Badge key={t} variant="light" radius="sm" tt="none">
                          {t}
                        </Badge>
                      ))}
                      {a.tags.length > MAX_TAGS && (
                        <Badge variant="outline" color="gray" radius="sm" tt="none">
                          +{a.tags.length - MAX_TAGS}
                        </Badge>
                      )}
                    </Group>
                  )}
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{artifactKind(a.mediaType, a.artifactType)}</Text>
                  {isIndex(a.mediaType) && a.platforms.length > 0 && (
                    <Group gap={4} mt={4}>
                      {a.platforms.map((p) => (
                        <Badge key={p} size="xs" variant="outline" color="gray" tt="none">
                          {p}
                        </Badge>
                      ))}
                    </Group>
                  )}
                  {!isIndex(a.mediaType) && a.platforms[0] && (
                    <Text size="xs" c="dimmed">
                      {a.platforms[0]}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{isIndex(a.mediaType) ? <Text size="sm" c="dimmed">-</Text> : <VulnerabilityBadge o={scans?.get(a.digest)} />}</Table.Td>
                <Table.Td>{a.authentication ? <AuthenticationBadge status={a.authentication.status} keys={a.authentication.keys} /> : <Text size="sm" c="dimmed">-</Text>}</Table.Td>
                <Table.Td ta="right" style={{ whiteSpace: 'nowrap' }}>
                  {formatBytes(a.size)}
                </Table.Td>
                <Table.Td>
                  <DateTime value={a.pushedAt} />
                  {a.pushedBy && (
                    <Text size="xs" c="dimmed">
                      by {a.pushedBy}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <DateTime value={a.pulledAt} />
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** An artifact's signatures (each with its status and the key that verifies it), attestations and SBOMs. */
import { Badge, Stack, Table, Text } from '@mantine/core';
import { type ImageRef } from '../../api/images';
import { useSignatures } from '../../api/trust';
import { AuthenticationBadge } from '../../components/AuthenticationBadge';
import { DateTime } from '../../components/DateTime';
import { LoadError, LoadingRows } from '../../components/QueryState';
import { shortDigest } from '../../lib/format';

export function SignaturesPanel({ imageRef, digest }: { imageRef: ImageRef; digest: string }) {
  const q = useSignatures(imageRef.registry, imageRef.image, digest);
  if (q.isPending) return <LoadingRows rows={2} />;
  if (q.isError) return <LoadError error={q.error} retry={() => q.refetch()} what="signatures" />;
  const t = q.data;
  return (
    <Stack gap="sm">
      <div>
        <AuthenticationBadge status={t.status} keys={t.keys} />
      </div>
      {t.signatures.length === 0 ? (
        <Text size="sm" c="dimmed">
          Not signed. Sign it with <code>cosign sign --key cosign.key</code> (or <code>ncr sign</code>); add the public key in the registry&apos;s Image Trust tab to verify it.
        </Text>
      ) : (
        <Table aria-label="Signatures">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Signature</Table.Th>
              <Table.Th>Kind</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Key</Table.Th>
              <Table.Th>Signed</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {t.signatures.map((s, i) => (
              <Table.Tr key={`${s.digest}-${i}`}>
                <Table.Td className="mono">{shortDigest(s.digest)}</Table.Td>
                <Table.Td>{s.kind}</Table.Td>
                <Table.Td>
                  <AuthenticationBadge status={s.status} keys={s.keyName ? [s.keyName] : []} />
                  {s.reason && (
                    <Text size="xs" c="dimmed" maw={360}>
                      {s.reason}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{s.keyName ?? '-'}</Table.Td>
                <Table.Td>
                  <DateTime value={s.signedAt} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {t.attestations.length > 0 && (
        <Stack gap={4}>
          <Text size="sm" fw={500}>
            Attestations and SBOMs
          </Text>
          {t.attestations.map((a) => (
            <Text key={a.digest} size="sm">
              <Badge size="xs" variant="light" color="gray" tt="none" mr={6}>
                {a.kind}
              </Badge>
              <span className="mono">{shortDigest(a.digest)}</span> · <DateTime value={a.at} />
            </Text>
          ))}
        </Stack>
      )}
    </Stack>
  );
}

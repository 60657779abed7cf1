/** An image: its artifacts; select one (?digest=…) to see its tags, layers, manifest, config and pull commands. */
import { Button, Group, Paper, Stack, Text, ThemeIcon, Title } from '@mantine/core';
import { IconClick, IconPhoto, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { Navigate, useNavigate, useParams, useSearchParams } from 'react-router';
import { useArtifacts } from '../../api/images';
import { useScanOverviews } from '../../api/scanning';
import { useDeleteImage } from '../../api/registries';
import { usePermissions, useSession } from '../../api/session';
import { ConfirmModal } from '../../components/ConfirmModal';
import { CopyButton } from '../../components/CopyButton';
import { PageHeader } from '../../components/PageHeader';
import { Pager } from '../../components/Pager';
import { LoadError, LoadingRows } from '../../components/QueryState';
import { plural } from '../../lib/format';
import { ArtifactDetail } from './ArtifactDetail';
import { ArtifactsTable } from './ArtifactsTable';

export function ImagePage() {
  const params = useParams();
  const registry = params.registry ?? '';
  const image = (params['*'] ?? '').replace(/\/+$/, '');
  const [search, setSearch] = useSearchParams();
  const digest = search.get('digest') ?? undefined;
  const page = Math.max(1, Number(search.get('page')) || 1);
  const ref = { registry, image };
  const q = useArtifacts(ref, { page, perPage: 20 });
  const scans = useScanOverviews(ref, q.data?.items.map((a) => a.digest) ?? []);
  const { canWrite } = usePermissions();
  const host = useSession().data?.registryHost ?? window.location.host;
  const del = useDeleteImage();
  const [deleting, setDeleting] = useState(false);
  const navigate = useNavigate();

  if (!image) return <Navigate to={`/registries/${encodeURIComponent(registry)}`} replace />;
  const full = `${host}/${registry}/${image}`;
  const setParam = (patch: Record<string, string | undefined>) =>
    setSearch((prev) => {
      const next = new URLSearchParams(prev);
      for (const [k, v] of Object.entries(patch)) if (v) next.set(k, v); else next.delete(k);
      return next;
    });

  return (
    <>
      <PageHeader
        crumbs={[{ label: 'Registries', to: '/registries' }, { label: registry, to: `/registries/${encodeURIComponent(registry)}` }, { label: image }]}
        icon={
          <ThemeIcon size={42} radius="md" variant="light" color="cyan">
            <IconPhoto size={24} />
          </ThemeIcon>
        }
        title={image}
        subtitle={
          <Group gap={4} wrap="nowrap">
            <Text span className="mono" c="dimmed" style={{ wordBreak: 'break-all' }}>
              {full}
            </Text>
            <CopyButton value={full} label="Copy image address" />
          </Group>
        }
        actions={
          canWrite && (
            <Button color="red" variant="light" leftSection={<IconTrash size={16} />} onClick={() => setDeleting(true)}>
              Delete image
            </Button>
          )
        }
      />
      <Stack gap="lg">
        <Paper withBorder p={{ base: 'sm', sm: 'md' }}>
          <Title order={4} mb="sm">
            Artifacts
          </Title>
          {q.isPending ? (
            <LoadingRows />
          ) : q.isError ? (
            <LoadError error={q.error} retry={() => q.refetch()} what="artifacts" />
          ) : (
            <>
              <ArtifactsTable artifacts={q.data.items} scans={scans.data} selected={digest} onSelect={(d) => setParam({ digest: d, tab: undefined })} />
              <Pager page={page} perPage={20} total={q.data.total} onChange={(p) => setParam({ page: p > 1 ? String(p) : undefined })} noun="artifact" />
            </>
          )}
        </Paper>
        {digest ? (
          <ArtifactDetail imageRef={ref} digest={digest} tab={search.get('tab') ?? 'tags'} onTab={(t) => setParam({ tab: t === 'tags' ? undefined : t })} onDeleted={() => setParam({ digest: undefined, tab: undefined })} />
        ) : (
          q.data &&
          q.data.items.length > 0 && (
            <Paper withBorder p="xl" style={{ borderStyle: 'dashed' }}>
              <Group gap="sm" justify="center" c="dimmed">
                <IconClick size={20} />
                <Text size="sm">Select an artifact to see its tags, layers, manifest, config and pull commands.</Text>
              </Group>
            </Paper>
          )
        )}
      </Stack>
      <ConfirmModal
        opened={deleting}
        onClose={() => setDeleting(false)}
        title={`Delete image ${image}?`}
        confirmLabel="Delete image"
        onConfirm={async () => {
          await del.mutateAsync({ registry, image });
          navigate(`/registries/${encodeURIComponent(registry)}`);
        }}
      >
        <Text size="sm">
          This deletes <b>{registry}/{image}</b> with {q.data ? plural(q.data.total, 'artifact') : 'all its artifacts'} and every tag. Pulls of it will fail. This cannot be undone.
        </Text>
      </ConfirmModal>
    </>
  );
}

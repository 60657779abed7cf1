/** The top of every page: breadcrumbs, a title with an optional icon and subtitle, and the page's actions. */
import { Anchor, Box, Breadcrumbs, Group, Stack, Text, Title } from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import type { ReactNode } from 'react';
import { Link } from 'react-router';

export interface Crumb {
  label: string;
  to?: string;
}

export function PageHeader({ title, subtitle, crumbs, actions, icon }: { title: ReactNode; subtitle?: ReactNode; crumbs?: Crumb[]; actions?: ReactNode; icon?: ReactNode }) {
  const context = crumbs && crumbs.length > 1 ? crumbs[crumbs.length - 2].label : undefined;
  useDocumentTitle(typeof title === 'string' ? `${title}${context ? ` · ${context}` : ''} · ncr` : 'ncr');
  return (
    <Stack gap={6} mb="lg">
      {crumbs && crumbs.length > 0 && (
        <Breadcrumbs separatorMargin={6} aria-label="Breadcrumb">
          {crumbs.map((c) =>
            c.to ? (
              <Anchor component={Link} to={c.to} key={c.label} size="sm">
                {c.label}
              </Anchor>
            ) : (
              <Text key={c.label} size="sm" c="dimmed" aria-current="page">
                {c.label}
              </Text>
            ),
          )}
        </Breadcrumbs>
      )}
      <Group justify="space-between" align="flex-start" gap="md" wrap="wrap">
        <Group gap="sm" wrap="nowrap" style={{ minWidth: 0 }}>
          {icon}
          <Box style={{ minWidth: 0 }}>
            <Title order={2} fw={650} style={{ wordBreak: 'break-word' }}>
              {title}
            </Title>
            {subtitle && (
              <Text c="dimmed" size="sm" mt={2} component="div">
                {subtitle}
              </Text>
            )}
          </Box>
        </Group>
        {actions && <Group gap="sm">{actions}</Group>}
      </Group>
    </Stack>
  );
}

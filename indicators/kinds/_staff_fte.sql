-- staff_fte (used by staff_ratio and staff_fte_rate): FTE of the operators in service on the reference
-- day of each year (31 December, or $as_of for the year to date), by sub-ambito and for the ambito.
-- Empty $profili / $contratti = every profile / contract.
-- The sum is exact (DECIMAL): a DOUBLE sum depends on the order the threads add the rows in, so the output
-- changed from run to run (64.3 or 64.30000000000001 FTE).
WITH anni AS (
    SELECT a AS anno, least(make_date(a, 12, 31), $as_of::DATE) AS rif
    FROM unnest($anni::INTEGER[]) AS t(a)
)
SELECT a.anno,
       CASE WHEN grouping(o.sub_ambito) = 0 THEN 'sub_ambito' ELSE 'ambito' END AS livello,
       CASE WHEN grouping(o.sub_ambito) = 0 THEN o.sub_ambito ELSE 'AMBITO' END AS territorio,
       sum(o.fte::DECIMAL(38, 10))::DOUBLE AS fte
FROM operatori AS o
JOIN anni AS a ON (o.data_inizio IS NULL OR o.data_inizio <= a.rif) AND (o.data_fine IS NULL OR o.data_fine >= a.rif)
WHERE (len($profili::VARCHAR[]) = 0 OR list_contains($profili::VARCHAR[], o.profilo))
  AND (len($contratti::VARCHAR[]) = 0 OR list_contains($contratti::VARCHAR[], o.contratto))
GROUP BY GROUPING SETS ((a.anno, o.sub_ambito), (a.anno))

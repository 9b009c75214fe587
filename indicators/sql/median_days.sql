-- median_days: median of the days from data_richiesta to data_inizio of the records of $interventi
-- with the event in the year; records without data_richiesta are left out. denominatore = records used.
WITH anni AS (
    SELECT a AS anno, make_date(a, 1, 1) AS d0, least(make_date(a, 12, 31), $as_of::DATE) AS d1
    FROM unnest($anni::INTEGER[]) AS t(a)
),
righe AS (
    SELECT a.anno, p.comune, s.sub_ambito, date_diff('day', p.data_richiesta, p.data_inizio) AS giorni
    FROM prestazioni AS p
    JOIN anni AS a ON CASE $evento::VARCHAR
        WHEN 'attivo' THEN p.data_inizio <= a.d1 AND (p.data_fine IS NULL OR p.data_fine >= a.d0)
        WHEN 'inizio' THEN p.data_inizio BETWEEN a.d0 AND a.d1
        WHEN 'fine' THEN p.data_fine BETWEEN a.d0 AND a.d1
        ELSE false END
    LEFT JOIN sub_ambiti AS s ON s.comune = p.comune
    WHERE list_contains($interventi::VARCHAR[], p.intervento) AND p.data_richiesta IS NOT NULL
)
SELECT anno,
       CASE WHEN grouping(comune) = 0 THEN 'comune' WHEN grouping(sub_ambito) = 0 THEN 'sub_ambito'
            ELSE 'ambito' END AS livello,
       CASE WHEN grouping(comune) = 0 THEN comune WHEN grouping(sub_ambito) = 0 THEN sub_ambito
            ELSE 'AMBITO' END AS territorio,
       median(giorni)::DOUBLE AS valore,
       count(*)::DOUBLE AS denominatore
FROM righe
GROUP BY GROUPING SETS ((anno, comune), (anno, sub_ambito), (anno))

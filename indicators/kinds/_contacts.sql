-- _contacts (kinds contact_rate, contact_share, contact_days): the contacts at the access points (accessi)
-- per year, by comune of residence, sub-ambito and ambito (GROUPING SETS).
--   contatti: contacts with data_accesso in the window of the year (records: they add up across territories);
--   contatti_in_sede: of which at a sede of the table sedi (HUB or SPOKE); contatti_spoke: of which at a SPOKE;
--   persone_giorni, giorni_mediana: persons whose first contact (their earliest data_accesso, pseudonym given)
--   falls in the year, who had no intervention starting before that contact and have one starting on or
--   after it (by $as_of): how many, and the median of the days from the first contact to that start.
--   Territory of a person: the comune of residence of the first contact (the lowest id_accesso on that day).
WITH anni AS (SELECT * FROM anni_finestra($anni, $as_of)),
contatti AS (
    SELECT a.anno, x.comune, s.sub_ambito, d.tipo
    FROM accessi AS x
    JOIN anni AS a ON x.data_accesso BETWEEN a.d0 AND a.d1
    LEFT JOIN sub_ambiti AS s ON s.comune = x.comune
    LEFT JOIN sedi AS d ON d.id_sede = x.id_sede
),
primo AS (
    SELECT persona_id, arg_min(comune, (data_accesso, id_accesso)) AS comune, min(data_accesso) AS data_primo
    FROM accessi
    WHERE persona_id IS NOT NULL AND data_accesso <= $as_of::DATE
    GROUP BY persona_id
),
nuovi AS (
    SELECT f.persona_id, f.comune, f.data_primo, min(r.data_inizio) AS data_intervento
    FROM primo AS f
    JOIN prestazioni AS r ON r.persona_id = f.persona_id AND r.data_inizio <= $as_of::DATE
    GROUP BY f.persona_id, f.comune, f.data_primo
    HAVING min(r.data_inizio) >= f.data_primo
),
giorni AS (
    SELECT a.anno, n.comune, s.sub_ambito, date_diff('day', n.data_primo, n.data_intervento) AS giorni
    FROM nuovi AS n
    JOIN anni AS a ON n.data_primo BETWEEN a.d0 AND a.d1
    LEFT JOIN sub_ambiti AS s ON s.comune = n.comune
),
righe AS (
    SELECT anno, comune, sub_ambito, true AS contatto, tipo, NULL::INTEGER AS giorni FROM contatti
    UNION ALL
    SELECT anno, comune, sub_ambito, false, NULL, giorni FROM giorni
)
SELECT anno,
       CASE WHEN grouping(comune) = 0 THEN 'comune' WHEN grouping(sub_ambito) = 0 THEN 'sub_ambito'
            ELSE 'ambito' END AS livello,
       CASE WHEN grouping(comune) = 0 THEN comune WHEN grouping(sub_ambito) = 0 THEN sub_ambito
            ELSE 'AMBITO' END AS territorio,
       (count(*) FILTER (WHERE contatto))::DOUBLE AS contatti,
       (count(*) FILTER (WHERE contatto AND tipo IN ('HUB', 'SPOKE')))::DOUBLE AS contatti_in_sede,
       (count(*) FILTER (WHERE contatto AND tipo = 'SPOKE'))::DOUBLE AS contatti_spoke,
       count(giorni)::DOUBLE AS persone_giorni,
       median(giorni)::DOUBLE AS giorni_mediana
FROM righe
GROUP BY GROUPING SETS ((anno, comune), (anno, sub_ambito), (anno))
